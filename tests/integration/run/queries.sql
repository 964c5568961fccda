CREATE STREAM calls (caller STRING KEY, cell STRING, duration INT, ts BIGINT)
  WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=2, TIMESTAMP='ts');
CREATE STREAM long_calls AS SELECT caller, cell, duration FROM calls WHERE duration > 60;
CREATE TABLE calls_per_cell AS
  SELECT cell, COUNT(*) AS calls FROM calls WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY cell;
