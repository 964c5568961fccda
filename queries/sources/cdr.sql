-- The CDR stream of ../shared/cdr/SCHEMA.md: one record per call, SMS or data session,
-- keyed by the caller's MSISDN, with event time in start_ts (epoch ms).
CREATE STREAM cdr (
  caller_key STRING KEY,
  cdr_id STRING,
  record_type STRING,
  caller STRING,
  callee STRING,
  imsi STRING,
  imei STRING,
  start_ts BIGINT,
  duration_s INT,
  setup_ms INT,
  cell_id STRING,
  lat DOUBLE,
  lon DOUBLE,
  termination STRING,
  bytes_up BIGINT,
  bytes_down BIGINT,
  sms_text STRING,
  roaming BOOLEAN,
  charge DOUBLE,
  WATERMARK FOR start_ts AS start_ts - INTERVAL '30' SECOND
) WITH (KAFKA_TOPIC='cdr', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4);
