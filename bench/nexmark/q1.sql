-- Nexmark q1, currency conversion: every bid with its price in euros.
CREATE STREAM q1 AS
  SELECT bid->auction AS auction, bid->bidder AS bidder, 0.908 * bid->price AS price,
         bid->dateTime AS dateTime, bid->extra AS extra
  FROM nexmark
  WHERE event_type = 2;
