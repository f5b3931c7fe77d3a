-- Every message received, exactly as received, committed before it is acknowledged.
CREATE TABLE messages (
  id             uuid PRIMARY KEY,
  received_at    timestamptz NOT NULL,
  channel        text NOT NULL CHECK (channel IN ('mllp', 'http')),
  remote_address text,
  api_client     text,
  feed_id        text,
  -- MSH-4 and MSH-3 as sent: with MSH-10 the key that recognises a re-sent message
  sender_key     text,
  control_id     text,
  message_type   text,
  raw            bytea NOT NULL,
  raw_truncated  boolean NOT NULL DEFAULT false,
  size_bytes     integer NOT NULL,
  sha256         text NOT NULL,
  status         text NOT NULL CHECK (status IN ('queued', 'processed', 'not-relevant', 'quarantined', 'duplicate')),
  reason         text,
  issues         jsonb NOT NULL DEFAULT '[]',
  ack_code       text,
  ack            bytea,
  canonical      jsonb,
  replay_count   integer NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL
);
-- A unique constraint, not a read-then-write race, recognises a re-send (same sender and MSH-10).
CREATE UNIQUE INDEX messages_sender_control_id ON messages (sender_key, control_id);
CREATE INDEX messages_status_received ON messages (status, received_at);
CREATE INDEX messages_feed_received ON messages (feed_id, received_at);

-- One notification per birth: a subject key (the baby's NHS number, else the feed's local id) is unique,
-- and a notification per message, so a retried job creates nothing new.
CREATE TABLE notifications (
  id                uuid PRIMARY KEY,
  message_id        uuid NOT NULL UNIQUE REFERENCES messages (id),
  subject_key       text NOT NULL UNIQUE,
  created_at        timestamptz NOT NULL,
  baby_nhs_number   text,
  mother_nhs_number text,
  record            jsonb NOT NULL,
  decision          jsonb NOT NULL,
  route             jsonb NOT NULL,
  -- Where it goes (a centre, an unallocated queue, safeguarding review) and the minimised record it may see
  queue             text,
  dataset           text,
  disclosed         jsonb,
  status            text NOT NULL CHECK (status IN ('routed', 'delivered', 'withheld', 'withdrawn'))
);
CREATE INDEX notifications_baby_nhs ON notifications (baby_nhs_number);
CREATE INDEX notifications_mother_nhs ON notifications (mother_nhs_number);

-- A centre's inbox (or an unallocated or review queue): it shows only notifications.disclosed.
CREATE TABLE inbox_items (
  queue            text NOT NULL,
  notification_id  uuid NOT NULL REFERENCES notifications (id),
  status           text NOT NULL CHECK (status IN ('new', 'acknowledged', 'withdrawn')),
  delivered_at     timestamptz NOT NULL,
  first_read_at    timestamptz,
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  PRIMARY KEY (queue, notification_id)
);
CREATE INDEX inbox_items_queue_status ON inbox_items (queue, status, delivered_at, notification_id);

-- Append-only audit trail. prev_hash/hash are reserved for the tamper-evident chain of a later issue.
CREATE TABLE audit_events (
  seq               bigserial PRIMARY KEY,
  at                timestamptz NOT NULL,
  actor             text NOT NULL,
  action            text NOT NULL,
  message_id        uuid,
  notification_id   uuid,
  subject_nhs_number text,
  recipient         text,
  rule_id           text,
  rulebook_version  text,
  lawful_basis      text,
  outcome           text,
  details           jsonb NOT NULL DEFAULT '{}',
  prev_hash         text,
  hash              text
);
CREATE INDEX audit_events_message ON audit_events (message_id);
CREATE INDEX audit_events_notification ON audit_events (notification_id);
CREATE INDEX audit_events_subject ON audit_events (subject_nhs_number);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
