-- Updates and moves; one baby, one notification (issue 12 items 4 and 5).
-- * demographic_key: the second-level key for a baby whose routes share no NHS number (a national notification
--   without a valid mother's NHS number and a trust's ADT without the baby's): the baby's date and minute of birth
--   and sex, the mother's date of birth and family name (src/pipeline/same-birth.ts). Unique, so two workers racing
--   with one baby by two routes make one notification; a later one sharing it is linked only if the records agree.
-- * last_message_id: the message that last changed the notification (an update, an enrichment, a move), so a retried
--   job finds the delivery its move left undone.
ALTER TABLE notifications ADD COLUMN demographic_key text;
CREATE UNIQUE INDEX notifications_demographic_key ON notifications (demographic_key);
ALTER TABLE notifications ADD COLUMN last_message_id uuid;
CREATE INDEX notifications_last_message ON notifications (last_message_id) WHERE last_message_id IS NOT NULL;
