-- Closing the consent register's two gaps (issue 13):
-- * consent_hold: set while a notification is withheld or withdrawn only because a parent objected (what held it:
--   when, how, which consent records). Lifting the objection (withdrawing it, a later consent, its period ending)
--   decides it again and, when the decision now sends it to the same inbox, delivers it there again and clears
--   this. Any other withdrawal (a death, a merge) or a later message Stork did not apply to it clears it for good:
--   such a notification is never re-delivered by a consent change.
-- * scheduled_runs: the last London day a scheduled job covered (the consent-period job: records whose period
--   started or ended since), so a restart neither skips a day nor needs to repeat one.
ALTER TABLE notifications ADD COLUMN consent_hold jsonb;

CREATE INDEX consents_period_from ON consents (period_from) WHERE period_from IS NOT NULL;
CREATE INDEX consents_period_to ON consents (period_to) WHERE period_to IS NOT NULL;

CREATE TABLE scheduled_runs (
  job       text PRIMARY KEY,
  last_day  date NOT NULL,
  ran_at    timestamptz NOT NULL
);

INSERT INTO app_privileges (relation, privileges) VALUES ('scheduled_runs', '{SELECT,INSERT,UPDATE}');
