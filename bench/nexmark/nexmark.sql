-- The Nexmark event stream (shared/NEXMARK.md) as Flink and RisingWave read it from Kafka:
-- one topic, one JSON object per event, {"event_type": 0|1|2, "person"|"auction"|"bid": {...}}
-- (connectors/datagen/nexmark_generator.h). Times are epoch milliseconds. A nested field
-- cannot be the TIMESTAMP column, so event time is the message timestamp, which producers
-- set to the event's dateTime.
CREATE STREAM nexmark (
  event_type INT,
  person STRUCT<id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING,
                state STRING, dateTime TIMESTAMP, extra STRING>,
  auction STRUCT<id BIGINT, itemName STRING, description STRING, initialBid BIGINT,
                 reserve BIGINT, dateTime TIMESTAMP, expires TIMESTAMP, seller BIGINT,
                 category BIGINT, extra STRING>,
  bid STRUCT<auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING,
             dateTime TIMESTAMP, extra STRING>
) WITH (KAFKA_TOPIC='nexmark', VALUE_FORMAT='JSON', PARTITIONS=4);
