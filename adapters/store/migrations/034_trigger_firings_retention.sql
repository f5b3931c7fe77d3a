-- Retention of trigger firings (issue 17 item 2; README "Retention"): once past `periods.triggerFirings` a firing
-- keeps its ids, trigger, agreement, recipient, status and times (the IG lead's counts per trigger stay whole) while
-- its identifiable parts go: the sealed dataset and the parent's NHS number become NULL, `purged_at` says when.
ALTER TABLE trigger_firings ADD COLUMN purged_at timestamptz;
ALTER TABLE trigger_firings ALTER COLUMN dataset DROP NOT NULL;
ALTER TABLE trigger_firings ALTER COLUMN subject_nhs_number DROP NOT NULL;
