-- The offer-of-support loop (issue 15 item 3): what a centre recorded happened with a family after a notification
-- reached its inbox. Append-only: the application role may only SELECT and INSERT (app_privileges), so a record is
-- never changed or removed; a correction is a new row naming the one it corrects (at most one correction per row).
-- `occurred_on` is the London date it happened (checked by the application: not in the future, not before the
-- notification reached the inbox); `worker` the named worker who did it; `recorded_by` the API client or person.
CREATE TABLE offer_outcomes (
  id                uuid PRIMARY KEY,
  inbox_id          text NOT NULL,
  notification_id   uuid NOT NULL,
  outcome           text NOT NULL CHECK (outcome IN ('contacted', 'offer-accepted', 'offer-declined', 'no-response', 'moved-away')),
  occurred_on       date NOT NULL,
  worker            text NOT NULL CHECK (length(worker) BETWEEN 1 AND 100),
  recorded_at       timestamptz NOT NULL,
  recorded_by       text NOT NULL,
  recorded_by_name  text,
  corrects          uuid REFERENCES offer_outcomes (id),
  FOREIGN KEY (inbox_id, notification_id) REFERENCES inbox_items (inbox_id, notification_id)
);
-- A notification's history (and the worklist's and reach report's look-ups of its outcomes).
CREATE INDEX offer_outcomes_notification ON offer_outcomes (inbox_id, notification_id, occurred_on);
-- One correction per record; also how "is this record corrected?" is answered.
CREATE UNIQUE INDEX offer_outcomes_corrects ON offer_outcomes (corrects) WHERE corrects IS NOT NULL;
-- The reach report: a centre's notifications delivered in a period, whatever their status.
CREATE INDEX inbox_items_inbox_delivered ON inbox_items (inbox_id, delivered_at);

INSERT INTO app_privileges (relation, privileges) VALUES ('offer_outcomes', '{SELECT,INSERT}');
