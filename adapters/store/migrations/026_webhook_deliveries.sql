-- Webhooks (issue 15 items 1 and 2): one row per event pushed to a centre's webhook, the notification put in its inbox
-- (`delivered`) or taken back (`withdrawn`). The idempotency key is stable per event (notification, event, the time the
-- inbox item changed), so a retry or a replay sends the same key and the receiver can drop a second copy. A row is
-- `pending` until the receiver's 2xx (`delivered`), or until retries pass the horizon (`dead`: a dead letter, with the
-- last error, which names a kind of failure only, never personal data), or until the current consent decision makes it
-- moot (`superseded`: the notification was withdrawn, moved or purged before it could be sent). An operator's replay
-- makes a dead letter `pending` again (`replays` counts them; each is audited).
CREATE TABLE webhook_deliveries (
  id                uuid PRIMARY KEY,
  idempotency_key   text NOT NULL UNIQUE,
  centre_id         text NOT NULL,
  notification_id   uuid NOT NULL REFERENCES notifications (id),
  event             text NOT NULL CHECK (event IN ('delivered', 'withdrawn')),
  occurred_at       timestamptz NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'superseded')),
  attempts          integer NOT NULL DEFAULT 0,
  first_tried_at    timestamptz,
  last_tried_at     timestamptz,
  job_added_at      timestamptz,
  delivered_at      timestamptz,
  response_status   integer,
  last_error        text,
  dead_at           timestamptz,
  replays           integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL
);
-- The dead letters of a centre, for operators; the pending rows whose job is not yet in Redis, for the sweep.
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (centre_id, dead_at) WHERE status = 'dead';
CREATE INDEX webhook_deliveries_unqueued ON webhook_deliveries (created_at) WHERE status = 'pending' AND job_added_at IS NULL;
CREATE INDEX webhook_deliveries_notification ON webhook_deliveries (notification_id);
-- The sweep finds inbox items withdrawn since its last look.
CREATE INDEX inbox_items_withdrawn ON inbox_items (inbox_id, withdrawn_at) WHERE withdrawn_at IS NOT NULL;

INSERT INTO app_privileges (relation, privileges) VALUES ('webhook_deliveries', '{SELECT,INSERT,UPDATE}');
