import type { Database } from '../../src/ports/database.js';
import type { SignedInPerson, WebSession, WebSessionStore } from '../../src/ports/web-sessions.js';
import { DataDecryptionError, NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';
import { iso } from './sql-helpers.js';

interface SessionRow {
  person: unknown;
  csrf_token: string;
  last_seen_at: Date | string;
  expires_at: Date | string;
  absolute_expires_at: Date | string;
}

const date = (v: Date | string): Date => new Date(iso(v) ?? 0);

/**
 * The web app's sessions in the hub's own store (table web_sessions, migration 013). The signed-in person (a member of
 * staff's name, role and centre) is sealed under the current data key like the families' data (a session written
 * before, or without a key, is read in clear), and `keys:rotate` re-keys it. A session sealed under a key no longer
 * configured cannot be opened: it is treated as ended, and the person signs in again.
 */
export class SqlWebSessionStore implements WebSessionStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async create(idSha256: string, s: WebSession, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO web_sessions (id_sha256, person, csrf_token, created_at, last_seen_at, expires_at, absolute_expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        idSha256,
        JSON.stringify(this.cipher.sealJson(s.person, sealedPlace.session(idSha256))),
        s.csrfToken,
        at,
        s.lastSeenAt,
        s.expiresAt,
        s.absoluteExpiresAt,
      ],
    );
  }

  async get(idSha256: string, at: Date): Promise<WebSession | undefined> {
    const r = await this.db.query<SessionRow>(
      `SELECT person, csrf_token, last_seen_at, expires_at, absolute_expires_at FROM web_sessions
       WHERE id_sha256 = $1 AND expires_at > $2 AND absolute_expires_at > $2`,
      [idSha256, at],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    let person: SignedInPerson;
    try {
      person = this.cipher.openJson(row.person, sealedPlace.session(idSha256)) as SignedInPerson;
    } catch (err) {
      if (err instanceof DataDecryptionError) return undefined;
      throw err;
    }
    return {
      person,
      csrfToken: row.csrf_token,
      lastSeenAt: date(row.last_seen_at),
      expiresAt: date(row.expires_at),
      absoluteExpiresAt: date(row.absolute_expires_at),
    };
  }

  async touch(idSha256: string, at: Date, expiresAt: Date): Promise<void> {
    await this.db.query(`UPDATE web_sessions SET last_seen_at = $2, expires_at = LEAST($3, absolute_expires_at) WHERE id_sha256 = $1`, [
      idSha256,
      at,
      expiresAt,
    ]);
  }

  async delete(idSha256: string): Promise<void> {
    await this.db.query('DELETE FROM web_sessions WHERE id_sha256 = $1', [idSha256]);
  }

  async deleteExpired(at: Date): Promise<number> {
    const r = await this.db.query('DELETE FROM web_sessions WHERE expires_at <= $1 OR absolute_expires_at <= $1', [at]);
    return r.rowCount;
  }
}
