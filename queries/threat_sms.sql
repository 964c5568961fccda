-- SMS whose text holds a threat or emergency phrase, in any case. Word boundaries (\b,
-- RE2) keep near misses out: 'gunther', 'killer deal', 'helpful', 'bombastic'.
CREATE STREAM threat_sms WITH (KAFKA_TOPIC='threat_sms') AS
  SELECT caller_key, cdr_id, caller, callee, cell_id, start_ts, sms_text
  FROM cdr
  WHERE record_type = 'SMS'
    AND REGEXP_LIKE(LCASE(sms_text),
          '\b(bomb|gun|shooting|kill you|explosive|kidnap|hostage|ransom|help me|attack)\b')
    AND NOT LCASE(sms_text) LIKE '%shooting star%';
