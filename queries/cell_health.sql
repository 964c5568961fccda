-- Drop rate and average call setup time per cell per minute.
-- A cell outage shows as a jump in DROP_RATE with slow AVG_SETUP_MS. The cell and the
-- window's bounds are also in the value, for the queries that read this topic as a stream
-- (cell_drop_risk.sql): there the key is the windowed key.
CREATE TABLE cell_health WITH (KAFKA_TOPIC='CELL_HEALTH') AS
  SELECT cell_id,
         COUNT(*) AS calls,
         SUM(CASE WHEN termination = 'DROPPED' THEN 1 ELSE 0 END) AS dropped,
         CAST(SUM(CASE WHEN termination = 'DROPPED' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*)
           AS drop_rate,
         AVG(setup_ms) AS avg_setup_ms,
         AS_VALUE(cell_id) AS cell,
         WINDOWSTART AS window_start,
         WINDOWEND AS window_end
  FROM cdr
  WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS)
  WHERE record_type = 'VOICE'
  GROUP BY cell_id
  EMIT FINAL;
