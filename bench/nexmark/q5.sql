-- Nexmark q5, hot items: per 10 s window sliding by 2 s, the auctions with the most bids.
-- Flink joins two subqueries; Sidestream chains persistent queries. Each stage emits a
-- window once, when it closes (EMIT FINAL, no grace), and the next stage reads the window's
-- start as its event time (TIMESTAMP=), so the counts of one window arrive together and the
-- maximum of a window closes when the next window's counts arrive.
CREATE TABLE q5_counts AS
  SELECT bid->auction AS auction, AS_VALUE(bid->auction) AS auction_id, COUNT(*) AS num,
         WINDOWSTART AS window_start
  FROM nexmark WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS, GRACE PERIOD 0 SECONDS)
  WHERE event_type = 2
  GROUP BY bid->auction EMIT FINAL;
CREATE STREAM q5_window_counts (auction_id BIGINT, num BIGINT, window_start BIGINT)
  WITH (KAFKA_TOPIC='Q5_COUNTS', VALUE_FORMAT='JSON', TIMESTAMP='window_start');
CREATE TABLE q5_max AS
  SELECT window_start, AS_VALUE(window_start) AS max_window_start, MAX(num) AS max_num
  FROM q5_window_counts WINDOW TUMBLING (SIZE 2 SECONDS, GRACE PERIOD 0 SECONDS)
  GROUP BY window_start EMIT FINAL;
CREATE STREAM q5_window_max (max_window_start BIGINT, max_num BIGINT)
  WITH (KAFKA_TOPIC='Q5_MAX', VALUE_FORMAT='JSON', TIMESTAMP='max_window_start');
CREATE STREAM q5 AS
  SELECT c.window_start AS window_start, c.auction_id AS auction, c.num AS num
  FROM q5_window_counts c JOIN q5_window_max m WITHIN 2 SECONDS GRACE PERIOD 2 SECONDS
    ON c.window_start = m.max_window_start
  WHERE c.num >= m.max_num;
