-- Antenatal notifications (issue 17 item 1): a maternity booking, decided under the antenatal agreement
-- (consent-rules/antenatal/), routed like a birth and, when permitted, delivered to the centre's "expecting" list.
-- One row per pregnancy (`pregnancy_key`: the mother's NHS number with the sender's pregnancy id, else with the due
-- date) and per message. `record` is the booking as mapped; `disclosed` what the centre may see (the `antenatal`
-- dataset), NULL when withheld. `status`: `delivered` (in the centre's list), `withheld` (not shared: no consent, an
-- objection, a restriction; the decision says which) or `withdrawn` (a pregnancy loss reported later: the centre
-- sees it withdrawn, without its content). `family_id`: the mother's family the booking created or joined (only
-- when delivered), which the baby's birth notification later joins. Audit rows name the row's id as their
-- notification_id (audit_events has no foreign key on it).
CREATE TABLE antenatal_notifications (
  id                 uuid PRIMARY KEY,
  message_id         uuid NOT NULL UNIQUE REFERENCES messages (id),
  pregnancy_key      text NOT NULL UNIQUE,
  mother_nhs_number  text NOT NULL,
  pregnancy_id       text,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  record             jsonb NOT NULL,
  decision           jsonb NOT NULL,
  route              jsonb NOT NULL,
  inbox_id           text,
  disclosed          jsonb,
  status             text NOT NULL CHECK (status IN ('delivered', 'withheld', 'withdrawn')),
  delivered_at       timestamptz,
  withdrawn_at       timestamptz,
  family_id          uuid REFERENCES families (id)
);
CREATE INDEX antenatal_notifications_mother ON antenatal_notifications (mother_nhs_number);
-- A centre's "expecting" list: its delivered and withdrawn items, newest first.
CREATE INDEX antenatal_notifications_inbox ON antenatal_notifications (inbox_id, delivered_at) WHERE inbox_id IS NOT NULL;

INSERT INTO app_privileges (relation, privileges) VALUES ('antenatal_notifications', '{SELECT,INSERT,UPDATE}');
