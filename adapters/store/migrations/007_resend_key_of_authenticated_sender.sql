-- The re-send key (sender_key, with control_id) now belongs to the sender that is authenticated, not to the
-- sender a message names (the rule: src/intake/resend-key.ts). Until now a message refused because its sender
-- was not verified (an unknown sender; an API client not allowed for the facility it named; an MLLP peer not
-- among the feed's addresses) was stored under the key of the facility and application it named, so a forged
-- message made that trust's genuine message with the same MSH-10 look like a re-send: it got the forged one's
-- AR back and was never stored (issue 8, defect 1). Move those rows into the key space of whoever did
-- authenticate, exactly as intake now keys them: '|client:<id>|' for HTTP, '|address:<peer>|' for MLLP, or no
-- key when neither is known. Such keys start with '|', which no verified sender's key does.
--
-- They are recognised by what intake recorded: no feed matched (feed_id unset: an unknown sender, or an
-- oversize message, which has no control id and so never blocked anything), or the two refusal reasons that
-- say the sender was not who MSH-4 claimed. Verified senders' keys keep their format (MSH-4|MSH-3), so
-- re-sends of every message stored before the upgrade are still recognised. A message refused that way and
-- then replayed by an operator has a new reason and keeps its key (it was accepted as that feed's own).
-- The prefixes end at their second '|' (client ids are [a-z0-9-], addresses hold no '|'), so no two rows
-- can end up with the same key. One pass over messages, at start-up.
UPDATE messages SET sender_key = CASE
    WHEN channel = 'http' AND api_client IS NOT NULL THEN '|client:' || api_client || '|' || sender_key
    WHEN channel = 'mllp' AND remote_address IS NOT NULL THEN '|address:' || remote_address || '|' || sender_key
  END
  WHERE sender_key IS NOT NULL
    AND (feed_id IS NULL
      OR reason IN ('This API client may not send for this sending facility', 'The feed may not send from this network address'));
