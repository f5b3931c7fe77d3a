-- A centre's API for antenatal items (issue 17 follow-up): GET /v1/centres/{centre}/antenatal, .../{id}, and
-- POST .../{id}/ack, as centres have for births. `first_read_at`: the centre's first read of the item (API or web);
-- `acknowledged_at`, `acknowledged_by`: when and by which client the centre took it on (the API's status
-- `acknowledged`; a delivered item not yet taken on is `new`). Withdrawing an item does not clear them.
ALTER TABLE antenatal_notifications ADD COLUMN first_read_at timestamptz;
ALTER TABLE antenatal_notifications ADD COLUMN acknowledged_at timestamptz;
ALTER TABLE antenatal_notifications ADD COLUMN acknowledged_by text;
-- The API's listing: a centre's items in delivery order (delivered and withdrawn ones; withheld ones have no inbox).
CREATE INDEX antenatal_notifications_inbox_paging ON antenatal_notifications (inbox_id, delivered_at, id) WHERE inbox_id IS NOT NULL;

-- Webhook pushes of antenatal items (issue 17 follow-up): a centre that takes webhooks is pushed its shared bookings
-- and their withdrawals too. `kind` says which table `notification_id` names: `birth` (notifications) or `antenatal`
-- (antenatal_notifications, whose ids are uuids of their own); so that column's foreign key to notifications goes.
ALTER TABLE webhook_deliveries ADD COLUMN kind text NOT NULL DEFAULT 'birth' CHECK (kind IN ('birth', 'antenatal'));
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_notification_id_fkey;
-- The sweep finds antenatal items delivered or withdrawn since its last look.
CREATE INDEX antenatal_notifications_inbox_withdrawn ON antenatal_notifications (inbox_id, withdrawn_at) WHERE withdrawn_at IS NOT NULL;
