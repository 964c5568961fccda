-- SMS whose text holds a threat or emergency phrase, in any case. Word boundaries keep
-- near misses such as 'bombastic' or 'shooting star' out.
CREATE STREAM threat_sms WITH (KAFKA_TOPIC='threat_sms') AS
  SELECT caller_key, cdr_id, caller, callee, cell_id, start_ts, sms_text
  FROM cdr
  WHERE record_type = 'SMS'
    AND REGEXP_LIKE(LCASE(sms_text), '\b(bomb|gun|shoot(ing)? (you|him|her|them|everyone)|kill|explosive|hostage|help me|emergency)\b');
