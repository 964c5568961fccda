-- The jobs of the exactly-once kill test, over CDRs (connectors/datagen): a windowed count and
-- sum per caller, a count per cell (re-keyed through a repartition topic: two stages, whose
-- offsets one transaction commits together) and a stream-table join of each call with the
-- caller's profile. @SUFFIX@ names the outputs, so that a reference run and the killed run
-- share the input topics. Each output record follows from the input alone: per key, records
-- arrive in partition order, the profile's records are older than every call (so the join
-- reads every one of them first), and a grace of an hour outlasts any pause of the test.
CREATE STREAM cdr (
  caller_key STRING KEY,
  cell_id STRING,
  duration_s INT,
  record_type STRING
) WITH (KAFKA_TOPIC='cdr', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE TABLE profile (
  caller_key STRING PRIMARY KEY,
  cell_id STRING,
  record_type STRING
) WITH (KAFKA_TOPIC='profile', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE TABLE calls_per_minute_@SUFFIX@ AS
  SELECT caller_key, COUNT(*) AS calls, SUM(duration_s) AS seconds FROM cdr
  WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 1 HOUR) GROUP BY caller_key EMIT CHANGES;
CREATE TABLE calls_per_cell_@SUFFIX@ AS
  SELECT cell_id, COUNT(*) AS calls FROM cdr GROUP BY cell_id EMIT CHANGES;
CREATE STREAM with_home_@SUFFIX@ AS
  SELECT c.caller_key, c.cell_id, c.duration_s, p.cell_id AS home_cell
  FROM cdr c JOIN profile p ON c.caller_key = p.caller_key EMIT CHANGES;
