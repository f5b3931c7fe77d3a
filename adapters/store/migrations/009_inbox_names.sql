-- One word, one meaning (issue 9): where a notification lands for one recipient is an inbox, named by its inbox id
-- (a centre's id, '<la>-unallocated', 'unallocated', 'safeguarding-review'); "queue" now means only a BullMQ queue.
-- The columns that hold an inbox id, and the index named after them, are renamed. A rename keeps the data, the
-- primary key and the indexes; app_privileges lists tables, not columns, so the application role keeps its rights.
ALTER TABLE notifications RENAME COLUMN queue TO inbox_id;
ALTER TABLE inbox_items RENAME COLUMN queue TO inbox_id;
ALTER INDEX inbox_items_queue_status RENAME TO inbox_items_inbox_status;

-- A notification's stored route names its unallocated inbox as `inboxId` now, as the code writes it. Audit events
-- are never rewritten: those written before this migration keep `details.route.queue`.
UPDATE notifications SET route = (route - 'queue') || jsonb_build_object('inboxId', route -> 'queue') WHERE route ? 'queue';
-- Likewise a review decision names the inbox it sends to as `inbox`, the rulebook's field (it was `queue`).
UPDATE notifications SET decision = (decision - 'queue') || jsonb_build_object('inbox', decision -> 'queue') WHERE decision ? 'queue';
