-- SIM-box pattern: a caller placing short calls to many distinct numbers within 5 minutes.
-- Windows hop every 30 s so that a burst is seen almost whole by one window.
CREATE TABLE call_bursts WITH (KAFKA_TOPIC='CALL_BURSTS') AS
  SELECT caller,
         COUNT_DISTINCT(callee) AS distinct_callees,
         COUNT(*) AS calls
  FROM cdr
  WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 30 SECONDS, GRACE PERIOD 30 SECONDS)
  WHERE record_type = 'VOICE' AND duration_s < 30
  GROUP BY caller
  HAVING COUNT_DISTINCT(callee) >= 40
  EMIT FINAL;
