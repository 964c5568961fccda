-- State that must survive a restart: counts per cell, and the number of distinct callees per
-- caller in an hour-long window.
CREATE STREAM calls (caller STRING KEY, cell STRING, callee STRING)
  WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE calls_per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;
CREATE TABLE callees AS
  SELECT caller, COUNT_DISTINCT(callee) AS callees FROM calls
  WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY caller;
