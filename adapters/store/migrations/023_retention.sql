-- Retention (issue 14 item 6): the retention job (src/retention) purges the personal data Stork holds once the period
-- mappings/retention.json gives for it has passed. A purged row keeps its id, hashes, sizes, statuses and times, so
-- the audit trail (which names rows by id and is never purged) stays whole and verifiable; its bodies become NULL
-- and `purged_at` says when. Readers treat a row with `purged_at` set as "no longer held".
-- * messages.purged_at: when the message's bytes and ACK (message_bodies.raw, .ack) were purged; its canonical record
--   goes with them unless a notification still uses it (then with that notification).
-- * notifications.purged_at: when its identifiable content (record, disclosed record, NHS numbers, the keys built
--   from them) was purged.
-- * fhir_events.purged_at: when a signal event's bytes and subject were purged.
ALTER TABLE messages ADD COLUMN purged_at timestamptz;
ALTER TABLE message_bodies ALTER COLUMN raw DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN purged_at timestamptz;
ALTER TABLE fhir_events ADD COLUMN purged_at timestamptz;
ALTER TABLE fhir_events ALTER COLUMN raw DROP NOT NULL;

-- One retention run at a time, however many hubs run it: a run takes the lease (owner, until) of its name, renews
-- it between batches, and leaves it when done. `last_*` record the last completed run (for operators).
CREATE TABLE retention_leases (
  name             text PRIMARY KEY,
  owner            text,
  lease_until      timestamptz,
  last_started_at  timestamptz,
  last_finished_at timestamptz
);

INSERT INTO app_privileges (relation, privileges) VALUES ('retention_leases', '{SELECT,INSERT,UPDATE}');
