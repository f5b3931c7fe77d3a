-- notifications.record repeated messages.canonical (the record the decision was made on) and was never read:
-- it doubled the row that processing writes and delivery rewrites. The canonical record stays with its message.
ALTER TABLE notifications DROP COLUMN record;
-- Delivery rewrites a notification's status only (no index holds it): free space on each page lets PostgreSQL
-- do that as a heap-only update, without touching the notification's five indexes.
ALTER TABLE notifications SET (fillfactor = 80);
