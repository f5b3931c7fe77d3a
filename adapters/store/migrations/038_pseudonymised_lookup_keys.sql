-- Pseudonymised lookup keys (issue 16): NHS numbers and the other identifying lookup keys (subject, demographic,
-- identity and blocking keys) are stored as pseudonyms, 'p1:' and the base64url of an HMAC-SHA256 of the value under
-- a pseudonymisation key derived (HKDF-SHA256) from ONE data key (adapters/store/data-cipher.ts). Every table uses the
-- same key, so joins between these columns still work; a value in clear (a row written before a key was set, or by
-- a hub with no key) still matches, as every lookup asks for both forms, and `npm run keys:rotate` converts it.
--
-- The data key the pseudonyms derive from is fixed here, by the first start with a data key, and never changes:
-- a rotation re-encrypts values, but a pseudonym cannot be recomputed without the value, so changing this key
-- would lose every lookup. Start-up stops when this key id is no longer among STORK_DATA_KEY_FILES.
CREATE TABLE pseudonym_key (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  key_id     text NOT NULL,
  fixed_at   timestamptz NOT NULL
);
INSERT INTO app_privileges (relation, privileges) VALUES ('pseudonym_key', '{SELECT,INSERT}');

-- A consent's NHS numbers are pseudonyms in mother_nhs_number and baby_nhs_number; the numbers themselves are kept
-- here, encrypted as the other identifiable JSON columns are (an envelope {enc, kid, v}, bound to the consent's id),
-- to be shown and compared. NULL: the row is in clear (its columns hold the numbers).
ALTER TABLE consents ADD COLUMN subjects jsonb;

-- A FHIR event's body (fhir_events.raw) is encrypted like a message's bytes (migration 028): under the data key key_id
-- names, bound to the event's row; NULL: stored in clear. The subject the fetch asks the feed's server for is kept in
-- `subject`, an envelope as above ({"reference", "nhsNumber"}, bound to the row); subject_nhs_number then holds the
-- number's pseudonym and subject_reference NULL. `subject` NULL: a row in clear, whose columns hold the subject.
ALTER TABLE fhir_events ADD COLUMN key_id text;
ALTER TABLE fhir_events ADD COLUMN subject jsonb;

-- Re-send keys stored before bounded keys (src/domain/bounded-key.ts): a sender key or control id over 512 bytes is
-- now stored and looked up as 'sha256:' and the hex SHA-256 of its text, so one stored as sent no longer matched its
-- re-sends. Such rows take the bounded form here, unless a row (a re-send stored since) already holds it.
WITH old AS (
  SELECT id,
         CASE WHEN octet_length(sender_key) > 512 THEN 'sha256:' || encode(sha256(convert_to(sender_key, 'UTF8')), 'hex') ELSE sender_key END AS s,
         CASE WHEN octet_length(control_id) > 512 THEN 'sha256:' || encode(sha256(convert_to(control_id, 'UTF8')), 'hex') ELSE control_id END AS c
    FROM messages WHERE octet_length(sender_key) > 512 OR octet_length(control_id) > 512
), free AS (
  SELECT DISTINCT ON (s, c) id, s, c FROM old
   WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.sender_key = old.s AND m.control_id = old.c)
   ORDER BY s, c, id
)
UPDATE messages m SET sender_key = free.s, control_id = free.c FROM free WHERE m.id = free.id;

WITH old AS (
  SELECT id,
         CASE WHEN octet_length(sender_key) > 512 THEN 'sha256:' || encode(sha256(convert_to(sender_key, 'UTF8')), 'hex') ELSE sender_key END AS s,
         CASE WHEN octet_length(event_id) > 512 THEN 'sha256:' || encode(sha256(convert_to(event_id, 'UTF8')), 'hex') ELSE event_id END AS e
    FROM fhir_events WHERE event_id IS NOT NULL AND (octet_length(sender_key) > 512 OR octet_length(event_id) > 512)
), free AS (
  SELECT DISTINCT ON (s, e) id, s, e FROM old
   WHERE NOT EXISTS (SELECT 1 FROM fhir_events f WHERE f.sender_key = old.s AND f.event_id = old.e)
   ORDER BY s, e, id
)
UPDATE fhir_events f SET sender_key = free.s, event_id = free.e FROM free WHERE f.id = free.id;

-- `npm run keys:rotate` (which may run as the application's role) converts clear rows to pseudonyms and re-encrypts
-- consents.subjects: the register's rows are still never changed by the hub (withdrawals are appended), but the role
-- may now UPDATE them. Identity keys are deleted when an A40 is reversed, and replaced by their pseudonyms.
UPDATE app_privileges SET privileges = '{SELECT,INSERT,UPDATE}' WHERE relation = 'consents';
UPDATE app_privileges SET privileges = '{SELECT,INSERT,UPDATE,DELETE}' WHERE relation = 'identity_keys';
