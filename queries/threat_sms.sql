-- SMS whose text holds a threat or emergency phrase, as whole words in any case. The list
-- is compiled once into a Hyperscan database (MATCHED_PHRASE); word boundaries keep
-- 'gunther', 'helpful', 'killer deal', 'attacking' and 'bombastic' out. PHRASE names the
-- phrase found.
CREATE STREAM threat_sms WITH (KAFKA_TOPIC='THREAT_SMS') AS
  SELECT caller_key, cdr_id, caller, callee, cell_id, start_ts, sms_text,
         MATCHED_PHRASE(sms_text, 'bomb, gun, shooting, kill you, explosive, kidnap, hostage,
                                   ransom, help me, attack') AS phrase
  FROM cdr
  WHERE record_type = 'SMS'
    AND MATCHED_PHRASE(sms_text, 'bomb, gun, shooting, kill you, explosive, kidnap, hostage,
                                  ransom, help me, attack') IS NOT NULL;
