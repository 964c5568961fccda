-- Network health where applications read it: every CELL_HEALTH row (cell_health.sql) goes to
-- Redis, for dashboards and serving, and to CouchDB, for storage. Both are fed from the same
-- table topic, and each stores with its writes the last offset it applied per partition, so
-- neither goes backwards after a restart or a crash. Copy this file, and change the URLs.
-- A key is the windowed cell key, e.g. cell_health:C042@1700000040000/1700000100000.
--   Redis:   HGETALL cell_health:C042@1700000040000/1700000100000
--   CouchDB: GET /cell_health/C042@1700000040000%2F1700000100000
CREATE SINK CONNECTOR cell_health_redis WITH (
  'connector.class' = 'redis',
  'topics' = 'CELL_HEALTH',
  'redis.url' = 'redis://127.0.0.1:6379',
  'redis.key.template' = 'cell_health:{KEY}',
  'redis.mode' = 'hash');

CREATE SINK CONNECTOR cell_health_couchdb WITH (
  'connector.class' = 'couchdb',
  'topics' = 'CELL_HEALTH',
  'couchdb.url' = 'http://127.0.0.1:5984',
  'couchdb.database' = 'cell_health');
