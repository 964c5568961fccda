-- Campaign sends of ../shared/cdr/SCHEMA.md: one record per subscriber a campaign was sent
-- to, keyed by the MSISDN (which joins the CDR caller), with event time in sent_ts.
CREATE STREAM campaign_sends (
  msisdn_key STRING KEY,
  msisdn STRING,
  campaign_id STRING,
  arm STRING,
  sent_ts BIGINT
) WITH (KAFKA_TOPIC='campaign_sends', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4,
        TIMESTAMP='sent_ts');
