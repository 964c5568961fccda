-- Venue visitors (geofence): every caller with a record inside a venue's radius during its
-- event, [event_start, event_end). The venue table's rows are read as a stream whose event
-- time is event_start.
CREATE STREAM venue_events (
  venue_id STRING KEY,
  name STRING,
  lat DOUBLE,
  lon DOUBLE,
  radius_km DOUBLE,
  event_start BIGINT,
  event_end BIGINT
) WITH (KAFKA_TOPIC='venues', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', TIMESTAMP='event_start');

-- The join is keyed by area, a geohash cell of precision 4 (about 20 x 20-40 km). A venue
-- goes to the cell of each corner of its geofence's bounding box: for radii up to about
-- 9 km the box spans at most 2 x 2 cells, so the corners name every cell a visitor can be
-- in (1.01 widens the longitude span for the disc's bulge off its centre latitude).
-- Corners in one cell repeat a row; the final GROUP BY removes the repeats.
CREATE STREAM venue_areas (
  area STRING KEY,
  venue_id STRING,
  lat DOUBLE,
  lon DOUBLE,
  radius_km DOUBLE,
  event_start BIGINT,
  event_end BIGINT
) WITH (KAFKA_TOPIC='venue_areas', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4);

INSERT INTO venue_areas
  SELECT GEOHASH(lat - radius_km / 111.19, lon - 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4) AS area,
         venue_id, lat, lon, radius_km, event_start, event_end
  FROM venue_events
  PARTITION BY GEOHASH(lat - radius_km / 111.19, lon - 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4);

INSERT INTO venue_areas
  SELECT GEOHASH(lat - radius_km / 111.19, lon + 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4) AS area,
         venue_id, lat, lon, radius_km, event_start, event_end
  FROM venue_events
  PARTITION BY GEOHASH(lat - radius_km / 111.19, lon + 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4);

INSERT INTO venue_areas
  SELECT GEOHASH(lat + radius_km / 111.19, lon - 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4) AS area,
         venue_id, lat, lon, radius_km, event_start, event_end
  FROM venue_events
  PARTITION BY GEOHASH(lat + radius_km / 111.19, lon - 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4);

INSERT INTO venue_areas
  SELECT GEOHASH(lat + radius_km / 111.19, lon + 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4) AS area,
         venue_id, lat, lon, radius_km, event_start, event_end
  FROM venue_events
  PARTITION BY GEOHASH(lat + radius_km / 111.19, lon + 1.01 * radius_km / (111.19 * COS(RADIANS(lat))), 4);

-- CDRs re-keyed by the same cells, so that both join inputs are co-partitioned.
CREATE STREAM cdr_by_area WITH (KAFKA_TOPIC='cdr_by_area', PARTITIONS=4) AS
  SELECT GEOHASH(lat, lon, 4) AS area, caller, lat, lon, start_ts
  FROM cdr
  PARTITION BY GEOHASH(lat, lon, 4);

-- A record meets the venues of its cell whose event started in the 4 hours before it (the
-- longest event this query serves: raise WITHIN for longer ones, at the cost of buffering
-- that many hours of CDRs); the geofence and the event's end are tested exactly.
CREATE STREAM venue_visits WITH (KAFKA_TOPIC='venue_visits') AS
  SELECT c.area, v.venue_id, c.caller, c.start_ts
  FROM cdr_by_area c
  JOIN venue_areas v WITHIN (4 HOURS, 0 SECONDS) GRACE PERIOD 10 MINUTES
    ON c.area = v.area
  WHERE c.start_ts >= v.event_start AND c.start_ts < v.event_end
    AND GEO_WITHIN(c.lat, c.lon, v.lat, v.lon, v.radius_km);

CREATE TABLE venue_visitors WITH (KAFKA_TOPIC='VENUE_VISITORS', KEY_FORMAT='JSON') AS
  SELECT venue_id, caller, COUNT(*) AS records, MIN(start_ts) AS first_seen
  FROM venue_visits
  GROUP BY venue_id, caller
  EMIT CHANGES;
