-- Early help takes a firing on (issue 17 follow-up): `taken_on_at`, `taken_on_by` say when and by whom (the audit's
-- actor string, `user:<sub>`, never the person's name) a worker of the recipient's queue recorded that the family is
-- taken on, as centres take births on (inbox_items.acknowledged_*). Only a delivered firing not purged can be taken
-- on; a purge keeps both columns (they hold no personal data). app_privileges already grants UPDATE (migration 031).
ALTER TABLE trigger_firings ADD COLUMN taken_on_at timestamptz;
ALTER TABLE trigger_firings ADD COLUMN taken_on_by text;
