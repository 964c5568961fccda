-- The jobs of the scale-out test over CDRs (connectors/datagen) on eight partitions: a windowed
-- count and sum per caller, and a count per cell (re-keyed through a repartition topic: two
-- stages). @SUFFIX@ names the outputs, so that the reference run and the scaled-out runs share
-- the input topic but not their consumer groups. The final value of each key (and window)
-- follows from the input alone: per key, records arrive in partition order, and a grace of an
-- hour outlasts any pause of the test.
CREATE STREAM cdr (
  caller_key STRING KEY,
  cell_id STRING,
  duration_s INT,
  record_type STRING
) WITH (KAFKA_TOPIC='cdr', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=8);
CREATE TABLE calls_per_minute_@SUFFIX@ AS
  SELECT caller_key, COUNT(*) AS calls, SUM(duration_s) AS seconds FROM cdr
  WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 1 HOUR) GROUP BY caller_key EMIT CHANGES;
CREATE TABLE calls_per_cell_@SUFFIX@ AS
  SELECT cell_id, COUNT(*) AS calls FROM cdr GROUP BY cell_id EMIT CHANGES;
