-- Information-sharing agreements (issue 13): every version of an agreement (a consent rulebook) the hub has loaded,
-- by the SHA-256 of its canonical content, with that content. A version not seen before is recorded once, with who
-- loaded it and when (and a `rulebook-loaded` audit event in the same transaction), so every decision's
-- `id@version#sha256:hash` leads to the exact text that made it, even after the file has changed.
CREATE TABLE agreement_versions (
  content_sha256  text PRIMARY KEY,
  agreement_id    text NOT NULL,
  version         text NOT NULL,
  content         jsonb NOT NULL,
  first_loaded_at timestamptz NOT NULL,
  loaded_by       text NOT NULL
);
CREATE INDEX agreement_versions_id ON agreement_versions (agreement_id, first_loaded_at);

INSERT INTO app_privileges (relation, privileges) VALUES ('agreement_versions', '{SELECT,INSERT}');
