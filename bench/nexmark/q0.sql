-- Nexmark q0, pass-through: every bid, unchanged. Flink reads bids through a view
-- (event_type = 2 over the same stream); here the filter is part of the query.
CREATE STREAM q0 AS
  SELECT bid->auction AS auction, bid->bidder AS bidder, bid->price AS price,
         bid->dateTime AS dateTime, bid->extra AS extra
  FROM nexmark
  WHERE event_type = 2;
