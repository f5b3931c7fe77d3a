-- Triggers (issue 17 item 2): each time an agreement's trigger fired on an event (an A&E attendance of a parent of
-- children known to Stork). `dataset` is the minimum dataset the recipient sees (who, which children, when, which
-- trigger; never the code that matched or any clinical text). `status`: `delivered` (in the recipient's queue),
-- `held` (a record is restricted: waiting for safeguarding review, not in any queue) or `closed` (closed at review,
-- never delivered). A released firing becomes `delivered` with `reviewed_*` set. Decisions not to fire are audit
-- events only (`trigger-not-fired`). One firing per message and trigger.
CREATE TABLE trigger_firings (
  id                 uuid PRIMARY KEY,
  message_id         uuid NOT NULL REFERENCES messages (id),
  trigger_id         text NOT NULL,
  trigger_name       text NOT NULL,
  agreement_id       text NOT NULL,
  agreement_version  text NOT NULL,
  lawful_basis       text NOT NULL,
  inbox_id           text NOT NULL,
  family_id          uuid NOT NULL REFERENCES families (id),
  subject_nhs_number text NOT NULL,
  dataset            jsonb NOT NULL,
  occurred_at        timestamptz NOT NULL,
  created_at         timestamptz NOT NULL,
  status             text NOT NULL CHECK (status IN ('delivered', 'held', 'closed')),
  delivered_at       timestamptz,
  reviewed_at        timestamptz,
  reviewed_by        text,
  reviewed_by_name   text,
  review_reason      text,
  first_read_at      timestamptz,
  UNIQUE (message_id, trigger_id)
);
-- A recipient's queue, newest first; the IG lead's counts per trigger; the held firings.
CREATE INDEX trigger_firings_inbox ON trigger_firings (inbox_id, created_at DESC) WHERE status = 'delivered';
CREATE INDEX trigger_firings_trigger ON trigger_firings (trigger_id, created_at DESC);
CREATE INDEX trigger_firings_held ON trigger_firings (created_at) WHERE status = 'held';

INSERT INTO app_privileges (relation, privileges) VALUES ('trigger_firings', '{SELECT,INSERT,UPDATE}');
