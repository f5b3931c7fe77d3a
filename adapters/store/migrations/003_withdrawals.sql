-- A notification withdrawn after delivery (the baby has died) stays in the centre's inbox as withdrawn, with
-- when, so the centre is told; its record is no longer shown.
ALTER TABLE inbox_items ADD COLUMN withdrawn_at timestamptz;
