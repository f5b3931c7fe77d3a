-- The web app's sign-in sessions (issue 11): server-side, so that a session can be ended (sign-out, expiry) and the
-- browser holds nothing but a random id. The id itself is never stored: only its SHA-256, so that whoever can read
-- this table cannot use a session. `person` is who signed in (the identity provider's claims that Stork uses:
-- subject, name, role, scope); `csrf_token` is the synchroniser token every form of that session must carry.
-- A session ends at `expires_at` (idle) or `absolute_expires_at` (however active), whichever comes first.
CREATE TABLE web_sessions (
  id_sha256           text PRIMARY KEY,
  person              jsonb NOT NULL,
  csrf_token          text NOT NULL,
  created_at          timestamptz NOT NULL,
  last_seen_at        timestamptz NOT NULL,
  expires_at          timestamptz NOT NULL,
  absolute_expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);

INSERT INTO app_privileges (relation, privileges) VALUES ('web_sessions', '{SELECT,INSERT,UPDATE,DELETE}');
