-- SMS whose text holds a threat or emergency phrase, as whole words in any case. The list
-- is compiled once into a Hyperscan database (MATCHED_PHRASE); word boundaries keep
-- 'gunther', 'helpful', 'killer deal', 'attacking' and 'bombastic' out. PHRASE names the
-- phrase found.
--
-- A phrase that modifies the word after it is not a threat: 'a shooting star', 'gun
-- control', 'bomb disposal' use the word as an adjective. So a phrase counts only where it
-- ends the text or a clause (punctuation), or is followed by a function word (a
-- preposition, article, pronoun or auxiliary: 'shooting at the station', 'they said a bomb
-- is here'). The second test runs on Hyperscan's few hits only. To flag every use, drop it.
CREATE STREAM threat_sms WITH (KAFKA_TOPIC='THREAT_SMS') AS
  SELECT caller_key, cdr_id, caller, callee, cell_id, start_ts, sms_text,
         MATCHED_PHRASE(sms_text, 'bomb, gun, shooting, kill you, explosive, kidnap, hostage,
                                   ransom, help me, attack') AS phrase
  FROM cdr
  WHERE record_type = 'SMS'
    AND MATCHED_PHRASE(sms_text, 'bomb, gun, shooting, kill you, explosive, kidnap, hostage,
                                  ransom, help me, attack') IS NOT NULL
    AND REGEXP_EXTRACT('(?i)\b(bomb|gun|shooting|kill\s+you|explosive|kidnap|hostage|ransom|help\s+me|attack)\b\s*($|[^\w\s]|(at|in|on|near|by|from|to|with|for|of|outside|inside|behind|here|there|now|again|please|the|a|an|this|that|my|your|our|their|his|her|and|or|but|so|is|are|was|were|will|has|have|had|i|we|you|they|he|she|it|me|us|them)\b)',
                       sms_text) IS NOT NULL;
