-- Event, then fetch (issue 10 item 4). A signal event posted to POST /v1/events is stored here before it is
-- answered; the worker then fetches the Patient it names (and related resources) from the feed's FHIR server and
-- stores what it got as a message (channel 'fhir-fetch'), linked back by message_id. The table is also the
-- fetch's durable work list: a pending event is claimed (claimed_until) and retried (next_attempt_at) until done.
CREATE TABLE fhir_events (
  id                 uuid PRIMARY KEY,
  received_at        timestamptz NOT NULL,
  api_client         text NOT NULL,
  feed_id            text,
  -- the feed's key ('feed:<id>') for an accepted event, the client's ('client:<id>') for a refused one: a refused
  -- event can never take an event id the genuine feed needs
  sender_key         text NOT NULL,
  event_id           text,
  form               text NOT NULL CHECK (form IN ('cloudevents', 'fhir', 'unknown')),
  raw                bytea NOT NULL,
  subject_reference  text,
  subject_nhs_number text,
  status             text NOT NULL CHECK (status IN ('pending', 'fetched', 'failed', 'refused')),
  reason             text,
  attempts           integer NOT NULL DEFAULT 0,
  next_attempt_at    timestamptz,
  claimed_until      timestamptz,
  message_id         uuid REFERENCES messages (id),
  updated_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX fhir_events_resend ON fhir_events (sender_key, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX fhir_events_due ON fhir_events (next_attempt_at) WHERE status = 'pending';

-- The per-feed poller's cursor: the highest meta.lastUpdated it has stored everything up to, and the ids of the
-- resources stored at exactly that instant (the next search asks `ge` and skips those, so neither a tie at the
-- cursor is missed nor a resource fetched twice). A lease lets one process at a time poll a feed.
CREATE TABLE fhir_poll_cursors (
  feed_id        text PRIMARY KEY,
  last_updated   text,
  ids_at_cursor  text[] NOT NULL DEFAULT '{}',
  lease_owner    text,
  lease_until    timestamptz,
  updated_at     timestamptz NOT NULL
);

INSERT INTO app_privileges (relation, privileges) VALUES
  ('fhir_events', '{SELECT,INSERT,UPDATE}'),
  ('fhir_poll_cursors', '{SELECT,INSERT,UPDATE}');
