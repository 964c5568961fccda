-- Campaign effect: per campaign and arm, how many subscribers the campaign was sent to and
-- how many converted, i.e. had a DATA session of at least 100 MB in the 30 minutes after
-- their send. Uplift is the treatment arm's RATE minus the control arm's.
-- Sends and conversions meet in one stream, so one aggregation counts both.
CREATE STREAM campaign_outcomes (
  msisdn_key STRING KEY,
  campaign_id STRING,
  arm STRING,
  sent_msisdn STRING,
  converted_msisdn STRING
) WITH (KAFKA_TOPIC='campaign_outcomes', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4);

INSERT INTO campaign_outcomes
  SELECT msisdn_key, campaign_id, arm, msisdn AS sent_msisdn,
         CAST(NULL AS STRING) AS converted_msisdn
  FROM campaign_sends;

-- Only big DATA sessions can convert: filtering them first keeps the join's buffer small.
CREATE STREAM big_data_sessions WITH (KAFKA_TOPIC='big_data_sessions') AS
  SELECT caller_key, start_ts, bytes_down
  FROM cdr
  WHERE record_type = 'DATA' AND bytes_down >= 100000000;

-- A send converts with a big DATA session in [sent_ts, sent_ts + 30 minutes); GRACE keeps
-- sessions that arrive up to 10 minutes late.
INSERT INTO campaign_outcomes
  SELECT s.msisdn_key, s.campaign_id, s.arm, CAST(NULL AS STRING) AS sent_msisdn,
         s.msisdn AS converted_msisdn
  FROM campaign_sends s
  JOIN big_data_sessions d WITHIN (0 SECONDS, 30 MINUTES) GRACE PERIOD 10 MINUTES
    ON s.msisdn_key = d.caller_key
  WHERE d.start_ts >= s.sent_ts AND d.start_ts < s.sent_ts + 30 * 60000;

CREATE TABLE campaign_effect WITH (KAFKA_TOPIC='CAMPAIGN_EFFECT', KEY_FORMAT='JSON') AS
  SELECT campaign_id,
         arm,
         COUNT_DISTINCT(sent_msisdn) AS sent,
         COUNT_DISTINCT(converted_msisdn) AS converted,
         CAST(COUNT_DISTINCT(converted_msisdn) AS DOUBLE) / COUNT_DISTINCT(sent_msisdn) AS rate
  FROM campaign_outcomes
  GROUP BY campaign_id, arm
  EMIT CHANGES;
