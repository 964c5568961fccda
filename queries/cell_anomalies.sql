-- Anomaly flags: a cell's minute of CELL_HEALTH (run cell_health.sql first) is flagged when
-- its dropped calls would be a one-in-a-million event at the cell's baseline drop rate
-- (SURPRISE, -log10 of that chance, at least 6). The baseline is the cell's earlier minutes,
-- shrunk toward the network's drop rate with the weight of 100 calls: a cell serves about a
-- call every two minutes, too few to know its own rate alone. Minutes with a 1-in-100 chance
-- or less (SURPRISE 2) stay out of the baseline, so that neither a slow degradation nor the
-- outage itself becomes the cell's normal. Over 400 cells, one in a million per cell-minute
-- is about one false flag in 40 hours.
CREATE STREAM IF NOT EXISTS cell_minutes (
  windowed_key STRING KEY,
  cell STRING,
  calls BIGINT,
  dropped INT,
  drop_rate DOUBLE,
  avg_setup_ms DOUBLE,
  window_start BIGINT,
  window_end BIGINT
) WITH (KAFKA_TOPIC='CELL_HEALTH', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');

-- Every cell's minute under one key, so that one table totals the whole network.
CREATE STREAM network_minutes AS
  SELECT 'network' AS network, cell, calls, dropped, window_start, window_end
  FROM cell_minutes
  PARTITION BY 'network';

CREATE TABLE network_drops AS
  SELECT network, SUM(dropped) AS dropped, SUM(calls) AS calls
  FROM network_minutes
  GROUP BY network;

-- Each cell's minute with the network's drop rate so far (Jeffreys' prior before any call).
CREATE STREAM cell_minutes_in_network AS
  SELECT m.cell AS cell, m.calls AS calls, m.dropped AS dropped,
         m.window_start AS window_start, m.window_end AS window_end,
         (CAST(n.dropped AS DOUBLE) + 0.5) / (n.calls + 1) AS network_drop_rate
  FROM network_minutes m JOIN network_drops n ON m.network = n.network
  PARTITION BY m.cell;

CREATE TABLE cell_drop_surprise WITH (KAFKA_TOPIC='CELL_DROP_SURPRISE') AS
  SELECT cell,
         BINOMIAL_SURPRISE(dropped, calls, network_drop_rate, 100, 2) AS surprise,
         LATEST_BY_OFFSET(window_start) AS window_start,
         LATEST_BY_OFFSET(window_end) AS window_end
  FROM cell_minutes_in_network
  GROUP BY cell;

CREATE STREAM cell_drop_surprises (
  cell STRING KEY,
  surprise DOUBLE,
  window_start BIGINT,
  window_end BIGINT
) WITH (KAFKA_TOPIC='CELL_DROP_SURPRISE', VALUE_FORMAT='JSON');

CREATE STREAM cell_anomalies WITH (KAFKA_TOPIC='CELL_ANOMALIES') AS
  SELECT cell AS cell_id, window_start, window_end, surprise, true AS anomaly
  FROM cell_drop_surprises
  WHERE surprise >= 6;
