-- Encryption at rest, second part (issue 16 item 3): the identifiable JSON columns (message_bodies.canonical,
-- notifications.record and .disclosed, families.lead, .address and .gp, family_children.record) keep their jsonb type
-- but hold an envelope `{"enc": 1, "kid": "<data key id>", "v": "<base64 of [version][iv][tag][ciphertext]>"}` when
-- a data key is configured (adapters/store/data-cipher.ts), so the key id travels with every value; any other value
-- is stored in clear (rows written before this migration, or by a hub with no key), still reads, and is encrypted by
-- `npm run keys:rotate`. Nothing here changes those columns: the application writes envelopes from now on.
--
-- SQL can no longer look inside a mother's record, so the A40/A24 search for the notifications of a mother known by
-- a local identifier (hospital number) reads this blind index instead: per notification, one row per identifier of
-- the mother in its current record, `hash` an HMAC-SHA256 of the identifier (value; and assigner with value) under a
-- key derived from the data key `key_id` names (`clear`: a plain SHA-256, for records stored in clear). Written with
-- the notification, replaced when its record changes, deleted when retention purges it, rebuilt under the current key
-- by `npm run keys:rotate`.
CREATE TABLE mother_identifier_index (
  hash             text NOT NULL,
  notification_id  uuid NOT NULL REFERENCES notifications (id),
  key_id           text NOT NULL,
  PRIMARY KEY (hash, notification_id)
);
CREATE INDEX mother_identifier_index_notification ON mother_identifier_index (notification_id);
CREATE INDEX mother_identifier_index_key ON mother_identifier_index (key_id, notification_id);

-- The notifications already held are in clear: their index rows are the clear ones, computed here as
-- SHA-256('stork-blind-index-clear:' || text) with text 'v' US value, and 'a' US assigner US value (US = chr(31)).
WITH ids AS (
  SELECT n.id, l ->> 'value' AS value, l ->> 'assigner' AS assigner
    FROM notifications n LEFT JOIN message_bodies b ON b.message_id = n.message_id
    CROSS JOIN LATERAL (SELECT COALESCE(n.record, b.canonical) -> 'mother' -> 'localIdentifiers' AS list) m
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(m.list) = 'array' THEN m.list ELSE '[]'::jsonb END) AS l
), texts AS (
  SELECT id, 'v' || chr(31) || value AS text FROM ids WHERE value IS NOT NULL
  UNION SELECT id, 'a' || chr(31) || assigner || chr(31) || value FROM ids WHERE value IS NOT NULL AND assigner IS NOT NULL
)
INSERT INTO mother_identifier_index (hash, notification_id, key_id)
SELECT DISTINCT encode(sha256(convert_to('stork-blind-index-clear:' || text, 'UTF8')), 'hex'), id, 'clear' FROM texts;

INSERT INTO app_privileges (relation, privileges) VALUES ('mother_identifier_index', '{SELECT,INSERT,DELETE}');
