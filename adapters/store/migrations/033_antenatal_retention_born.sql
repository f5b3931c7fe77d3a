-- Antenatal notifications, continued (issue 17 item 1 follow-up).
-- * purged_at: when the retention job (period `antenatalContent` of mappings/retention.json, else
--   `notificationContent`) purged the row's identifiable content: `record`, `disclosed`, the mother's NHS number, the
--   pregnancy id; `pregnancy_key` becomes `purged:<id>` (unique, as the column must be). The row keeps its id,
--   status, decision, route and times, so the audit trail naming it stays whole.
-- * born_at: when the baby's birth notification joined the family this booking made (or joined): the centre's
--   expecting item is closed (it leaves the active list and shows "Born"); its status stays `delivered`.
ALTER TABLE antenatal_notifications ADD COLUMN purged_at timestamptz;
ALTER TABLE antenatal_notifications ADD COLUMN born_at timestamptz;
ALTER TABLE antenatal_notifications ALTER COLUMN record DROP NOT NULL;
ALTER TABLE antenatal_notifications ALTER COLUMN mother_nhs_number DROP NOT NULL;
