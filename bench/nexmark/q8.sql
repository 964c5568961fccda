-- Nexmark q8, new users: persons who created an auction in the same 10 s tumbling window as
-- they registered. Persons and auctions are two streams over the one Nexmark topic (every
-- event is read by both; the other kinds have a NULL join key and join nothing). WITHIN
-- 10 SECONDS bounds the buffered state; equal ROWTIME / 10000 makes it the same window.
CREATE STREAM persons (event_type INT,
  person STRUCT<id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING,
                state STRING, dateTime TIMESTAMP, extra STRING>)
  WITH (KAFKA_TOPIC='nexmark', VALUE_FORMAT='JSON');
CREATE STREAM auctions (event_type INT,
  auction STRUCT<id BIGINT, itemName STRING, description STRING, initialBid BIGINT,
                 reserve BIGINT, dateTime TIMESTAMP, expires TIMESTAMP, seller BIGINT,
                 category BIGINT, extra STRING>)
  WITH (KAFKA_TOPIC='nexmark', VALUE_FORMAT='JSON');
CREATE STREAM q8 AS
  SELECT ROWKEY AS id, p.person->name AS name, a.auction->reserve AS reserve
  FROM persons p JOIN auctions a WITHIN 10 SECONDS ON p.person->id = a.auction->seller
  WHERE p.ROWTIME / 10000 = a.ROWTIME / 10000;
