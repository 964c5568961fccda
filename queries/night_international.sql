-- Night-time international calling: a caller placing many calls abroad (callee outside
-- +49) between 00:00 and 05:00 UTC, a pattern of toll fraud on stolen SIMs. Windows of 20
-- minutes hop every 5 minutes; 10 calls abroad in one is far above ordinary callers.
CREATE TABLE night_international WITH (KAFKA_TOPIC='NIGHT_INTERNATIONAL') AS
  SELECT caller,
         COUNT(*) AS calls_abroad,
         COUNT_DISTINCT(callee) AS distinct_callees
  FROM cdr
  WINDOW HOPPING (SIZE 20 MINUTES, ADVANCE BY 5 MINUTES, GRACE PERIOD 30 SECONDS)
  WHERE record_type = 'VOICE'
    AND callee IS NOT NULL AND NOT callee LIKE '+49%'
    AND start_ts % 86400000 < 5 * 3600000
  GROUP BY caller
  HAVING COUNT(*) >= 10
  EMIT FINAL;
