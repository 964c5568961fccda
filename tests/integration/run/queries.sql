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
-- A stream-table join: both topics are keyed by the caller and have 2 partitions, so each
-- task joins partition p of one with partition p of the other.
CREATE STREAM dialed (caller STRING KEY, round INT) WITH (KAFKA_TOPIC='dialed', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE plans (msisdn STRING PRIMARY KEY, plan STRING) WITH (KAFKA_TOPIC='plans', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE STREAM dialed_with_plan AS
  SELECT d.caller, d.round, p.plan FROM dialed d LEFT JOIN plans p ON d.caller = p.msisdn;
