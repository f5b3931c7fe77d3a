-- Antenatal notifications, continued (issue 17 follow-up: consent changes after delivery).
-- * consent_hold: set while a booking delivered to a centre is withdrawn only because of the mother's consent
--   register (her `antenatal` consent withdrawn or its period over, an `antenatal` objection recorded or begun): when,
--   how and under which consent records, as notifications.consent_hold (migration 025). A later decision that permits
--   again (her consent recorded again) delivers it to the same centre once and clears this. A pregnancy loss clears it
--   for good: such a booking never comes back.
ALTER TABLE antenatal_notifications ADD COLUMN consent_hold jsonb;
