-- Nexmark q2, selection: the bids on auctions whose id is a multiple of 123.
CREATE STREAM q2 AS
  SELECT bid->auction AS auction, bid->price AS price
  FROM nexmark
  WHERE event_type = 2 AND bid->auction % 123 = 0;
