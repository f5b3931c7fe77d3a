-- TRUNCATE fires no row triggers, so audit_events_no_update never saw it: a statement trigger of its own refuses
-- it, for every role (the owner included). audit_events_no_update stays for UPDATE and DELETE.
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- What the application's database role (the role DATABASE_URL logs in as, when migrations run as the owner through
-- STORK_MIGRATION_DATABASE_URL) may do, table by table. It owns nothing, so it cannot ALTER, DROP or disable a
-- trigger, and it is given no TRUNCATE, TRIGGER or REFERENCES anywhere and nothing but SELECT and INSERT on the
-- audit. A relation with no row here is not available to it at all: a migration that creates a table, view or
-- sequence the application uses adds its row in the same migration (a test checks that every relation has one).
CREATE TABLE app_privileges (
  relation   text PRIMARY KEY,
  privileges text[] NOT NULL CHECK (privileges <@ ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'USAGE']),
  CHECK (relation <> 'audit_events' OR privileges <@ ARRAY['SELECT', 'INSERT'])
);
INSERT INTO app_privileges (relation, privileges) VALUES
  ('messages', '{SELECT,INSERT,UPDATE}'),
  ('message_bodies', '{SELECT,INSERT,UPDATE}'),
  ('notifications', '{SELECT,INSERT,UPDATE}'),
  ('inbox_items', '{SELECT,INSERT,UPDATE}'),
  ('audit_events', '{SELECT,INSERT}'),
  ('audit_events_seq_seq', '{USAGE}'),
  ('schema_migrations', '{SELECT}'),
  ('app_privileges', '{}');

-- Run by the owner at every start-up, under the migration lock, after the migrations: brings the application
-- role's privileges on every table, view and sequence of this schema to what app_privileges says, revoking whatever
-- else it was given (relations already right are left alone: a GRANT invalidates cached plans), then checks what
-- the role can really do, through PUBLIC and role memberships too. A role that is a superuser, can act as the
-- owner, may set session_replication_role or create objects in the schema, or ends up with other privileges than
-- these is refused (SQLSTATE STK01), and the transaction, migrations included, rolls back.
CREATE FUNCTION stork_grant_app_privileges(app_role name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  target oid;
  r record;
  want text[];
  have text[];
  kind text;
  can_set boolean;
BEGIN
  SELECT oid INTO target FROM pg_roles WHERE rolname = app_role;
  IF target IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'STK01', MESSAGE = format('role %s does not exist', app_role);
  END IF;
  IF (SELECT rolsuper FROM pg_roles WHERE oid = target) OR pg_has_role(target, current_user, 'MEMBER') THEN
    RAISE EXCEPTION USING ERRCODE = 'STK01',
      MESSAGE = format('role %s is a superuser or can act as the owner %s, so it could alter the audit trail', app_role, current_user);
  END IF;
  -- PostgreSQL 15 lets a superuser GRANT SET ON PARAMETER to anyone: replica mode turns every trigger off.
  IF current_setting('server_version_num')::int >= 150000 THEN
    EXECUTE 'SELECT has_parameter_privilege($1, ''session_replication_role'', ''SET'')' INTO can_set USING target;
    IF can_set THEN
      RAISE EXCEPTION USING ERRCODE = 'STK01',
        MESSAGE = format('role %s may SET session_replication_role, which turns the audit trail''s triggers off', app_role);
    END IF;
  END IF;
  IF has_schema_privilege(target, current_schema(), 'CREATE') THEN
    RAISE EXCEPTION USING ERRCODE = 'STK01',
      MESSAGE = format('role %s may create objects in schema %s (REVOKE CREATE ON SCHEMA %s FROM PUBLIC, %s)',
                       app_role, current_schema(), current_schema(), app_role);
  END IF;
  FOR r IN
    SELECT c.relname, c.relkind, c.relacl, p.privileges FROM pg_class c
      LEFT JOIN app_privileges p ON p.relation = c.relname
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  LOOP
    want := ARRAY(SELECT DISTINCT x FROM unnest(coalesce(r.privileges, '{}')) AS x ORDER BY 1);
    have := ARRAY(SELECT DISTINCT a.privilege_type FROM aclexplode(r.relacl) AS a WHERE a.grantee = target ORDER BY 1);
    IF have IS DISTINCT FROM want THEN
      kind := CASE WHEN r.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END;
      EXECUTE format('REVOKE ALL ON %s %I FROM %I', kind, r.relname, app_role);
      IF cardinality(want) > 0 THEN
        EXECUTE format('GRANT %s ON %s %I TO %I', array_to_string(want, ', '), kind, r.relname, app_role);
      END IF;
    END IF;
  END LOOP;
  FOR r IN
    SELECT c.oid, c.relname, c.relkind, p.privileges FROM pg_class c
      LEFT JOIN app_privileges p ON p.relation = c.relname
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  LOOP
    want := ARRAY(SELECT DISTINCT x FROM unnest(coalesce(r.privileges, '{}')) AS x ORDER BY 1);
    IF r.relkind = 'S' THEN
      have := ARRAY(SELECT x FROM unnest(ARRAY['SELECT', 'UPDATE', 'USAGE']) AS x WHERE has_sequence_privilege(target, r.oid, x) ORDER BY 1);
    ELSE
      have := ARRAY(SELECT x FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS x
                     WHERE has_table_privilege(target, r.oid, x) ORDER BY 1);
    END IF;
    IF have IS DISTINCT FROM want THEN
      RAISE EXCEPTION USING ERRCODE = 'STK01',
        MESSAGE = format('role %s can %s on %s, where app_privileges gives it %s (are the tables owned by %s?)',
                         app_role, coalesce(nullif(array_to_string(have, ', '), ''), 'nothing'), r.relname,
                         coalesce(nullif(array_to_string(want, ', '), ''), 'nothing'), current_user);
    END IF;
  END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION stork_grant_app_privileges(name) FROM PUBLIC;
