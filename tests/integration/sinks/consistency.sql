-- The consistency test's job: a count per cell (a table, with a repartition and a changelog),
-- sent to Redis and CouchDB. @REDIS_PORT@ and @COUCHDB_PORT@ are filled in by the test.
CREATE STREAM calls (caller VARCHAR KEY, cell VARCHAR) WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');
CREATE TABLE calls_per_cell WITH (KAFKA_TOPIC='CALLS_PER_CELL') AS
  SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell EMIT CHANGES;
CREATE SINK CONNECTOR cells_redis WITH (
  'connector.class' = 'redis',
  'topics' = 'CALLS_PER_CELL',
  'redis.url' = 'redis://127.0.0.1:@REDIS_PORT@',
  'redis.key.template' = 'cell:{KEY}',
  'batch.max.records' = '50');
CREATE SINK CONNECTOR cells_couchdb WITH (
  'connector.class' = 'io.sidestream.CouchDbSink',
  'topics' = 'CALLS_PER_CELL',
  'couchdb.url' = 'http://127.0.0.1:@COUCHDB_PORT@',
  'couchdb.database' = 'cells',
  'batch.max.records' = '50');
SHOW CONNECTORS;
