-- Campaign targets: the heavy data users eligible for a data offer, i.e. callers with at
-- least 3 DATA sessions and 50 MB downloaded in the eligibility period, the 30 minutes
-- after 00:00 UTC (the campaign's T0). Another campaign changes the period in WHERE and the
-- thresholds in HAVING. GRACE waits 10 minutes for late records before the list is final.
-- Grouping by the message key (the caller) needs no repartition topic, so every CDR, even
-- one the filter drops, moves stream time and closes the window on time.
CREATE TABLE campaign_targets WITH (KAFKA_TOPIC='CAMPAIGN_TARGETS') AS
  SELECT caller_key AS msisdn,
         COUNT(*) AS data_sessions,
         SUM(bytes_down) AS bytes_down
  FROM cdr
  WINDOW TUMBLING (SIZE 30 MINUTES, GRACE PERIOD 10 MINUTES)
  WHERE record_type = 'DATA' AND start_ts % 86400000 < 30 * 60000
  GROUP BY caller_key
  HAVING COUNT(*) >= 3 AND SUM(bytes_down) >= 50000000
  EMIT FINAL;
