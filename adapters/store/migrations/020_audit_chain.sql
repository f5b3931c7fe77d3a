-- Tamper-evident audit (issue 14 part 1): a hash chain over audit_events and signed checkpoints of it.
-- README, "Tamper-evident audit", describes the canonical form, the chain, the checkpoints and what verification detects.

-- THE canonical serialisation of an audit event: the one definition, used by the chain trigger below and by
-- `npm run audit:verify` / GET /v1/audit/verify (which also check that this function is the one this file defines, and
-- that it names every column of audit_events but `hash`). A JSON array, no whitespace outside the details:
--   ["stork-audit-v1", seq, at, actor, action, message_id, notification_id, subject_nhs_number, recipient, rule_id,
--    rulebook_version, lawful_basis, outcome, details, prev_hash]
-- seq a JSON number; at in UTC with microseconds, "YYYY-MM-DDTHH:MM:SS.ffffffZ"; text and uuid columns JSON strings
-- (PostgreSQL's to_json escaping, the same as ECMAScript JSON.stringify), NULL as null; details as PostgreSQL prints
-- the stored jsonb (keys sorted shorter first then bytewise, ", " and ": " separators, numbers as stored, e.g. 1.0).
-- A column added to audit_events is added here, in its place before prev_hash, with a new format tag.
CREATE FUNCTION audit_event_canonical(e audit_events) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT '["stork-audit-v1",' || e.seq::text
    || ',' || coalesce(to_json(to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'null')
    || ',' || coalesce(to_json(e.actor)::text, 'null')
    || ',' || coalesce(to_json(e.action)::text, 'null')
    || ',' || coalesce(to_json(e.message_id::text)::text, 'null')
    || ',' || coalesce(to_json(e.notification_id::text)::text, 'null')
    || ',' || coalesce(to_json(e.subject_nhs_number)::text, 'null')
    || ',' || coalesce(to_json(e.recipient)::text, 'null')
    || ',' || coalesce(to_json(e.rule_id)::text, 'null')
    || ',' || coalesce(to_json(e.rulebook_version)::text, 'null')
    || ',' || coalesce(to_json(e.lawful_basis)::text, 'null')
    || ',' || coalesce(to_json(e.outcome)::text, 'null')
    || ',' || coalesce(e.details::text, 'null')
    || ',' || coalesce(to_json(e.prev_hash)::text, 'null')
    || ']'
$$;

-- An event's hash: SHA-256 of its canonical form in UTF-8, lowercase hex.
CREATE FUNCTION audit_event_hash(e audit_events) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT encode(sha256(convert_to(audit_event_canonical(e), 'UTF8')), 'hex')
$$;

-- One chain for the whole table, in seq order. The first audit row of a transaction takes the chain's lock (an advisory
-- transaction lock, held until COMMIT or ROLLBACK), then reads the last committed event; every row of the transaction
-- then gets seq = previous + 1, prev_hash = the previous hash and its own hash. The head of the transaction's chain is
-- kept in a transaction-local setting, so later rows need no query. Holding the lock until COMMIT makes seq order the
-- commit order: no gaps, no fork, and verification reads exactly the order the chain was written in. The application
-- writes a transaction's audit events at its end (sql-helpers.ts), so the lock is held for one INSERT and the COMMIT.
-- Whatever seq, prev_hash or hash an INSERT gives is overwritten.
CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head text := current_setting('stork.audit_chain_head', true);
  last_seq bigint;
  last_hash text;
BEGIN
  IF head IS NULL OR head = '' THEN
    -- Under REPEATABLE READ the snapshot predates the lock: the last event read could be stale, and the chain fork.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION USING ERRCODE = 'STK02', MESSAGE = 'audit events can be written only in READ COMMITTED transactions';
    END IF;
    PERFORM pg_advisory_xact_lock(774411021);
    SELECT a.seq, a.hash INTO last_seq, last_hash FROM audit_events a ORDER BY a.seq DESC LIMIT 1;
    -- An empty table, or only events from before this migration: the chain starts here.
    last_seq := coalesce(last_seq, 0);
    last_hash := coalesce(last_hash, repeat('0', 64));
  ELSE
    last_seq := split_part(head, ' ', 1)::bigint;
    last_hash := split_part(head, ' ', 2);
  END IF;
  NEW.seq := last_seq + 1;
  NEW.prev_hash := last_hash;
  NEW.hash := audit_event_hash(NEW);
  PERFORM set_config('stork.audit_chain_head', NEW.seq::text || ' ' || NEW.hash, true);
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

-- The chain starts with a genesis event that seals the events written before it (which have no hash): their number,
-- last seq, and the SHA-256 of the concatenated hex hashes of their canonical forms in seq order. chainId names this
-- chain in every signed checkpoint, so a checkpoint of another database never verifies here.
INSERT INTO audit_events (at, actor, action, outcome, details)
SELECT now(), 'stork', 'audit-chain-started', 'ok', jsonb_build_object(
    'chainId', gen_random_uuid()::text,
    'legacyEvents', count(*),
    'legacyLastSeq', coalesce(max(seq), 0),
    'legacyDigest', encode(sha256(convert_to(coalesce(string_agg(audit_event_hash(e), '' ORDER BY seq), ''), 'UTF8')), 'hex'))
FROM audit_events e;

-- Signed checkpoints: at intervals the hub signs (chain id, seq, hash, time, key id) with its Ed25519 key and stores
-- the signature here (and writes it to its log, an external witness). Insert-only, like the audit.
CREATE TABLE audit_checkpoints (
  seq        bigint NOT NULL,
  at         timestamptz NOT NULL,
  chain_id   text NOT NULL,
  hash       text NOT NULL,
  key_id     text NOT NULL,
  signature  text NOT NULL,
  PRIMARY KEY (seq, at)
);
CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();

ALTER TABLE app_privileges ADD CONSTRAINT app_privileges_checkpoints_insert_only
  CHECK (relation <> 'audit_checkpoints' OR privileges <@ ARRAY['SELECT', 'INSERT']);
INSERT INTO app_privileges (relation, privileges) VALUES ('audit_checkpoints', '{SELECT,INSERT}');
