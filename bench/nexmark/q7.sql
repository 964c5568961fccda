-- Nexmark q7, highest bid: the bids with the highest price of their 10 s tumbling window.
-- Flink joins the bids with a subquery; Sidestream chains persistent queries, as ksqlDB
-- users do: the window's maximum comes out once, when the window closes (EMIT FINAL, no
-- grace), and the bids are joined with it on price. The window's maximum is stamped with its
-- latest bid, so a bid of the window is at most 10 s older: WITHIN (0, 10 SECONDS) bounds the
-- buffered bids (GRACE: the maximum may come up to 5 s of bids late), and WHERE keeps the
-- ones of the same window.
CREATE TABLE q7_max AS
  SELECT event_type, MAX(bid->price) AS maxprice, WINDOWSTART AS window_start
  FROM nexmark WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS)
  WHERE event_type = 2
  GROUP BY event_type EMIT FINAL;
CREATE STREAM q7_max_prices (maxprice BIGINT, window_start BIGINT)
  WITH (KAFKA_TOPIC='Q7_MAX', VALUE_FORMAT='JSON');
CREATE STREAM q7 AS
  SELECT m.maxprice AS price, b.bid->auction AS auction, b.bid->bidder AS bidder,
         b.bid->dateTime AS dateTime, b.bid->extra AS extra
  FROM nexmark b JOIN q7_max_prices m WITHIN (0 SECONDS, 10 SECONDS) GRACE PERIOD 5 SECONDS
    ON b.bid->price = m.maxprice
  WHERE b.ROWTIME >= m.window_start AND b.ROWTIME < m.window_start + 10000;
