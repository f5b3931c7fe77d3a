-- Family records (issue 12): a household led by the mother (or the person with parental responsibility), its
-- children, its current address and centre, and what built it (notifications, a centre's register import, a
-- confirmed match review, an HL7 v2 A40 merge or A24 link).
--
-- families: one row per household. `lead` is the lead person as matching reads it and a centre may see it (name,
-- date of birth, NHS number and its verification status, phone, preferred language); `lead_nhs_number` is unique,
-- so one mother's NHS number is one family, and two workers racing on it make one. `centre` is the inbox id of the
-- centre the family uses (from the register it was imported from, else the catchment its address routes to);
-- `named_worker` the worker a centre assigned (`named_worker_centre`: which centre; another centre never sees it).
-- A family merged into another (A40, or a confirmed review whose provisional family joins the one it matched) keeps its row with `merged_into` set and no longer matches.
CREATE TABLE families (
  id               uuid PRIMARY KEY,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  lead             jsonb NOT NULL,
  lead_nhs_number  text UNIQUE,
  address          jsonb,
  gp               jsonb,
  preferred_language text,
  centre           text,
  named_worker     text,
  named_worker_centre text,
  named_worker_at  timestamptz,
  merged_into      uuid REFERENCES families (id),
  origin           text NOT NULL CHECK (origin IN ('notification', 'register-import'))
);
CREATE INDEX families_centre ON families (centre) WHERE merged_into IS NULL;

-- The children of a family. `child_key` identifies the child within Stork: `nhs:<baby NHS number>`, else
-- `notification:<id>` for a baby known only by its notification, else `register:<centre>:<local id>` for a child a
-- register import brought. Twins and triplets are distinct rows (distinct keys), never merged.
CREATE TABLE family_children (
  family_id        uuid NOT NULL REFERENCES families (id),
  child_key        text NOT NULL,
  notification_id  uuid REFERENCES notifications (id),
  record           jsonb NOT NULL,
  added_at         timestamptz NOT NULL,
  PRIMARY KEY (family_id, child_key)
);
CREATE INDEX family_children_notification ON family_children (notification_id);

-- Blocking keys of each live family's lead (see src/matching): a probe is scored only against the families that
-- share at least one key with it, so matching stays fast on a large register.
CREATE TABLE family_block_keys (
  key        text NOT NULL,
  family_id  uuid NOT NULL REFERENCES families (id),
  PRIMARY KEY (key, family_id)
);
CREATE INDEX family_block_keys_family ON family_block_keys (family_id);

-- Which family each notification belongs to, and why: `method` is `nhs-number` (the mother's NHS number),
-- `probabilistic` (a Fellegi–Sunter score at or above the match threshold), `review-confirmed`, `new-family` (no
-- match: a family made for it) or `merge`/`link` (A40/A24). `score` and `contributions` (each field's level and
-- weight, names and numbers only) are kept for every probabilistic or reviewed match.
CREATE TABLE family_links (
  notification_id  uuid PRIMARY KEY REFERENCES notifications (id),
  family_id        uuid NOT NULL REFERENCES families (id),
  method           text NOT NULL,
  score            double precision,
  contributions    jsonb,
  linked_at        timestamptz NOT NULL
);
CREATE INDEX family_links_family ON family_links (family_id);

-- What built each family: a notification, a register import (with the import's id and row), a review, a merge.
CREATE TABLE family_sources (
  family_id  uuid NOT NULL REFERENCES families (id),
  kind       text NOT NULL,
  ref        text NOT NULL,
  at         timestamptz NOT NULL,
  PRIMARY KEY (family_id, kind, ref)
);

-- Matches in the review band: held (the notification is linked to a provisional family of its own) until an
-- operator confirms (the provisional family joins the candidate) or rejects (it stays apart).
CREATE TABLE match_reviews (
  id                     uuid PRIMARY KEY,
  notification_id        uuid NOT NULL REFERENCES notifications (id),
  candidate_family_id    uuid NOT NULL REFERENCES families (id),
  provisional_family_id  uuid NOT NULL REFERENCES families (id),
  score                  double precision NOT NULL,
  contributions          jsonb NOT NULL,
  status                 text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
  created_at             timestamptz NOT NULL,
  decided_at             timestamptz,
  decided_by             text,
  UNIQUE (notification_id, candidate_family_id)
);
CREATE INDEX match_reviews_pending ON match_reviews (created_at) WHERE status = 'pending';

INSERT INTO app_privileges (relation, privileges) VALUES
  ('families', '{SELECT,INSERT,UPDATE}'),
  ('family_children', '{SELECT,INSERT,UPDATE,DELETE}'),
  ('family_block_keys', '{SELECT,INSERT,DELETE}'),
  ('family_links', '{SELECT,INSERT,UPDATE}'),
  ('family_sources', '{SELECT,INSERT}'),
  ('match_reviews', '{SELECT,INSERT,UPDATE}');
