import type { Logger } from '../../src/logger.js';
import type { Database } from '../../src/ports/database.js';
import { ConfigError } from '../../src/domain/config-error.js';
import { openPostgres } from './postgres-database.js';
import { migrate, migrationsDir } from './migrate.js';

/**
 * Who may change what in the store (issue 8, defect 7). The hub's own connection (DATABASE_URL) should be a role
 * that owns nothing: it cannot TRUNCATE, ALTER or DROP the audit trail, disable its triggers, or set
 * `session_replication_role` (superusers only). The schema's owner (STORK_MIGRATION_DATABASE_URL) applies the
 * migrations and grants the application role what `app_privileges` lists, at start-up only; its connection is
 * closed before the hub takes any work. The embedded PGlite has one user, so none of this applies there.
 */

/** PostgreSQL error codes the start-up turns into an operator's message. */
const INSUFFICIENT_PRIVILEGE = '42501';
/** Raised by stork_grant_app_privileges (migration 006) with a message of its own, naming roles and tables only. */
const STORK_PRIVILEGES = 'STK01';

function pgCode(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

/**
 * Applies the migrations the way the settings say: through the owner's connection when `migrationUrl` is given
 * (then grants the application role its privileges), else through `db` itself, warning when that role could alter
 * the audit trail. Returns the versions applied.
 */
export async function migrateStore(db: Database, options: { migrationUrl?: string; logger: Logger }): Promise<string[]> {
  if (db.kind !== 'postgres') return migrate(db);
  if (options.migrationUrl !== undefined) return migrateAsOwner(db, options.migrationUrl, options.logger);
  let applied: string[];
  try {
    applied = await migrate(db);
  } catch (err) {
    if (pgCode(err) === INSUFFICIENT_PRIVILEGE) {
      throw new ConfigError(
        'The role of DATABASE_URL may not apply the pending migrations (permission denied). Set STORK_MIGRATION_DATABASE_URL ' +
          'to the schema\'s owner; see the README, "Database roles".',
      );
    }
    throw err;
  }
  const r = await db.query<{ role: string; superuser: boolean; owner: boolean }>(
    `SELECT current_user AS role, r.rolsuper AS superuser, coalesce(pg_has_role(current_user, c.relowner, 'MEMBER'), false) AS owner
       FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('audit_events') WHERE r.rolname = current_user`,
  );
  const me = r.rows[0];
  if (me && (me.superuser || me.owner)) {
    options.logger.warn(
      { role: me.role, superuser: me.superuser, owner: me.owner },
      'store: the role of DATABASE_URL is a superuser or owns the schema, so it could truncate the audit trail or disable its ' +
        'triggers. Run the hub as a role with only the privileges it needs and set STORK_MIGRATION_DATABASE_URL to the owner ' +
        '(README: "Database roles").',
    );
  }
  return applied;
}

async function migrateAsOwner(app: Database, migrationUrl: string, logger: Logger): Promise<string[]> {
  const me = await app.query<{ role: string; database: string }>('SELECT current_user AS role, current_database() AS database');
  const appRole = me.rows[0]?.role;
  if (appRole === undefined) throw new Error('current_user returned no row');
  let owner: Database;
  try {
    owner = await openPostgres({ connectionString: migrationUrl, maxConnections: 1 });
  } catch (err) {
    const code = pgCode(err) ?? (err as Error).name;
    throw new ConfigError(`The schema's owner (STORK_MIGRATION_DATABASE_URL) cannot connect to PostgreSQL (${code}).`);
  }
  try {
    const who = await owner.query<{ role: string; database: string }>('SELECT current_user AS role, current_database() AS database');
    const ownerRole = who.rows[0]?.role;
    if (who.rows[0]?.database !== me.rows[0]?.database) {
      throw new ConfigError(
        `STORK_MIGRATION_DATABASE_URL connects to database ${who.rows[0]?.database ?? '?'} and DATABASE_URL to ` +
          `${me.rows[0]?.database ?? '?'}: both must name the same database.`,
      );
    }
    const applied = await migrate(owner, migrationsDir, { grantTo: appRole });
    logger.info({ appRole, ownerRole }, 'store: migrations and privileges applied by the owner; the hub runs as the application role');
    return applied;
  } catch (err) {
    if (pgCode(err) === STORK_PRIVILEGES) {
      // Our own function's message (roles, tables and privileges; no data).
      throw new ConfigError(`DATABASE_URL's role cannot be given its privileges: ${(err as Error).message}.`);
    }
    if (pgCode(err) === INSUFFICIENT_PRIVILEGE) {
      throw new ConfigError(
        "The role of STORK_MIGRATION_DATABASE_URL may not apply the migrations (permission denied): it must own the schema's " +
          'tables and may create in the schema; see the README, "Database roles".',
      );
    }
    throw err;
  } finally {
    await owner.close();
  }
}
