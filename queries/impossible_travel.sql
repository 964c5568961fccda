-- Impossible travel: two records of one caller from cells at least 500 km apart within 10
-- minutes (no one moves that fast: a cloned SIM or a fraudulent roaming record).
-- ksqlDB has no self joins, so a projection of the CDR stream (same key, same partitions)
-- serves as the earlier side of the pair.
CREATE STREAM cdr_positions WITH (KAFKA_TOPIC='cdr_positions') AS
  SELECT caller_key, cdr_id, cell_id, lat, lon, start_ts FROM cdr;

-- Each record meets the same caller's records of the 10 minutes before it. GRACE keeps
-- records that arrive up to 10 minutes late in the buffers, so they still pair.
CREATE STREAM impossible_travel WITH (KAFKA_TOPIC='IMPOSSIBLE_TRAVEL') AS
  SELECT later.caller_key AS caller,
         earlier.cell_id AS from_cell,
         later.cell_id AS to_cell,
         GEO_DISTANCE(earlier.lat, earlier.lon, later.lat, later.lon) AS distance_km,
         CAST(later.start_ts - earlier.start_ts AS DOUBLE) / 60000 AS minutes,
         earlier.cdr_id AS from_cdr_id,
         later.cdr_id AS to_cdr_id
  FROM cdr later
  JOIN cdr_positions earlier WITHIN (10 MINUTES, 0 SECONDS) GRACE PERIOD 10 MINUTES
    ON later.caller_key = earlier.caller_key
  WHERE earlier.start_ts <= later.start_ts
    AND earlier.cdr_id <> later.cdr_id
    AND GEO_DISTANCE(earlier.lat, earlier.lon, later.lat, later.lon) >= 500;
