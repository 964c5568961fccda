-- Venues of ../shared/cdr/SCHEMA.md: a table, one row per venue, keyed by venue_id, with a
-- circular geofence (centre lat/lon, radius_km) and the event's time [event_start, event_end).
CREATE TABLE venues (
  venue_id STRING PRIMARY KEY,
  name STRING,
  lat DOUBLE,
  lon DOUBLE,
  radius_km DOUBLE,
  event_start BIGINT,
  event_end BIGINT
) WITH (KAFKA_TOPIC='venues', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=1);
