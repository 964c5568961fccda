-- Call-drop prediction: an XGBoost model scores each cell's minute of CELL_HEALTH (run
-- cell_health.sql first) and ALERT warns when RISK, the model's probability that the cell
-- is degrading into an outage, reaches 0.5. The model (models/call_drop.json) was trained
-- by scripts/train_call_drop_model.py on the v2 sample, whose outage is preceded by 5
-- minutes of slower setup and more drops: the alert comes in those minutes, before the
-- outage begins. PARTITION BY keys the result by the cell alone (CELL_HEALTH's key also
-- holds the window).
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

CREATE STREAM cell_drop_risk WITH (KAFKA_TOPIC='CELL_DROP_RISK') AS
  SELECT cell AS cell_id,
         window_start,
         window_end,
         PREDICT('call_drop', calls, drop_rate, avg_setup_ms) AS risk,
         PREDICT('call_drop', calls, drop_rate, avg_setup_ms) >= 0.5 AS alert
  FROM cell_minutes
  PARTITION BY cell;
