-- Identity events (issue 12 item 5): after an HL7 v2 A40 merge, every identity key of either patient (the subject-key
-- form: `nhs:<NHS number>`, `local:<feed>:<assigner>:<value>`) resolves to the one subject key that now stands for
-- the person, so that a later message under the merged (retired) identifier, or under the surviving one when only
-- the merged record was known, reaches the same notification instead of making a second one. Processing looks the
-- keys of a batch up before it inserts (one indexed query). A merge about patients Stork has never seen is kept here
-- too: it is the only place that remembers it. `message_id` is the A40 that said so.
CREATE TABLE identity_keys (
  key          text PRIMARY KEY,
  subject_key  text NOT NULL,
  message_id   uuid NOT NULL,
  created_at   timestamptz NOT NULL
);
CREATE INDEX identity_keys_subject ON identity_keys (subject_key);

INSERT INTO app_privileges (relation, privileges) VALUES ('identity_keys', '{SELECT,INSERT,UPDATE}');
