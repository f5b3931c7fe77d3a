-- One birth, one offer, whatever the route (issue 10 item 6). A later message about a baby already notified (by
-- the trust's HL7 v2 ADT, the national birth notification, or FHIR) enriches that notification instead of being
-- only a duplicate, so a notification now holds:
-- * record: its record as enriched by later messages (NULL while nothing has enriched it: its first message's
--   canonical record, in message_bodies, is then its record, so the hot path writes nothing more);
-- * birth_key: the key two routes share for one baby (the mother's NHS number, the baby's date of birth and birth
--   order; see src/pipeline/same-birth.ts), unique, so two workers racing with the same baby make one notification;
-- * updated_at: when a later message last changed it.
ALTER TABLE notifications ADD COLUMN record jsonb;
ALTER TABLE notifications ADD COLUMN birth_key text;
ALTER TABLE notifications ADD COLUMN updated_at timestamptz;
CREATE UNIQUE INDEX notifications_birth_key ON notifications (birth_key);
-- The baby's NHS number, learnt later by a notification first made from a local id, is as unique as the subject key
-- that holds it when it came first (every row with one has subject_key 'nhs:' || baby_nhs_number until now).
DROP INDEX notifications_baby_nhs;
CREATE UNIQUE INDEX notifications_baby_nhs ON notifications (baby_nhs_number);
-- The centre sees an enriched record after delivery as the same notification, updated (not a new one).
ALTER TABLE inbox_items ADD COLUMN updated_at timestamptz;
