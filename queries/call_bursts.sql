-- SIM-box pattern: a caller placing short calls to many distinct numbers within 5 minutes.
CREATE TABLE call_bursts WITH (KAFKA_TOPIC='call_bursts') AS
  SELECT caller,
         COUNT_DISTINCT(callee) AS distinct_callees,
         COUNT(*) AS calls
  FROM cdr
  WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 1 MINUTE, GRACE PERIOD 30 SECONDS)
  WHERE record_type = 'VOICE' AND duration_s < 30
  GROUP BY caller
  HAVING COUNT_DISTINCT(callee) >= 50
  EMIT FINAL;
