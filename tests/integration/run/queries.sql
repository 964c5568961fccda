CREATE STREAM calls (caller STRING KEY, cell STRING, duration INT, ts BIGINT)
  WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=2, TIMESTAMP='ts');
CREATE STREAM long_calls AS SELECT caller, cell, duration FROM calls WHERE duration > 60;
CREATE TABLE calls_per_cell AS
  SELECT cell, COUNT(*) AS calls FROM calls WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY cell;
-- A table re-grouped: every update retracts the subscriber's old plan through the
-- repartition topic.
CREATE TABLE subscribers (id STRING PRIMARY KEY, plan STRING)
  WITH (KAFKA_TOPIC='subscribers', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE plan_counts AS SELECT plan, COUNT(*) AS subscribers FROM subscribers GROUP BY plan;
-- A windowed table read back: its keys carry the windows (cell@start/end).
CREATE TABLE busy_cells AS
  SELECT cell, calls, WINDOWSTART AS ws FROM calls_per_cell WHERE calls >= 20;
