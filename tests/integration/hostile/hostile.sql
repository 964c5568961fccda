-- The queries the hostile-message test runs: a filter, a GROUP BY on a value column (through
-- the repartition topic), a stream-table join, and a DELIMITED stream with a KAFKA INT key.
CREATE STREAM calls (caller STRING KEY, cell STRING, duration INT, ts BIGINT)
  WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1, TIMESTAMP='ts');
CREATE TABLE plans (msisdn STRING PRIMARY KEY, plan STRING)
  WITH (KAFKA_TOPIC='plans', VALUE_FORMAT='JSON', PARTITIONS=1);
CREATE STREAM readings (id INT KEY, cell STRING, level DOUBLE)
  WITH (KAFKA_TOPIC='readings', KEY_FORMAT='KAFKA', VALUE_FORMAT='DELIMITED', PARTITIONS=1);
CREATE STREAM long_calls AS SELECT caller, cell, duration FROM calls WHERE duration > 60;
CREATE TABLE calls_per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;
CREATE STREAM calls_with_plan AS
  SELECT c.caller, c.cell, p.plan FROM calls c LEFT JOIN plans p ON c.caller = p.msisdn;
CREATE STREAM high_readings AS SELECT id, cell, level FROM readings WHERE level > 0.5;
