import type { DisclosedAntenatal } from '../../src/domain/antenatal-notification.js';
import type { AntenatalInbox, AntenatalInboxItem, AntenatalInboxStatus } from '../../src/ports/antenatal-store.js';
import type { AuditActor, AuditEventInput } from '../../src/ports/audit.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import { acknowledgedEvent, readEvent } from '../../src/processing/inbox-events.js';
import type { DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';
import { cursorOf, encodeCursor, insertAuditEvents, iso } from './sql-helpers.js';

interface Row {
  id: string;
  inbox_id: string;
  status: 'delivered' | 'withdrawn';
  delivered_at: Date | string;
  first_read_at: Date | string | null;
  acknowledged_at: Date | string | null;
  withdrawn_at: Date | string | null;
  born_at: Date | string | null;
  purged_at: Date | string | null;
  disclosed: unknown;
  mother_nhs_number: string | null;
}

const SELECT = `SELECT id, inbox_id, status, delivered_at, first_read_at, acknowledged_at, withdrawn_at, born_at, purged_at, disclosed,
  mother_nhs_number FROM antenatal_notifications`;
/** A centre's items: delivered ones and withdrawn ones it had (a withheld booking never reached an inbox). */
const OWN = `inbox_id = $1 AND status IN ('delivered', 'withdrawn') AND delivered_at IS NOT NULL`;
const STATUS_WHERE: Record<AntenatalInboxStatus, string> = {
  new: `status = 'delivered' AND acknowledged_at IS NULL`,
  acknowledged: `status = 'delivered' AND acknowledged_at IS NOT NULL`,
  withdrawn: `status = 'withdrawn'`,
};

/** A centre's read or take-on of an antenatal item, audited like a birth's (`details.kind: antenatal`), the mother the subject. */
const antenatal = (e: AuditEventInput): AuditEventInput => ({ ...e, details: { ...e.details, kind: 'antenatal' } });

/** A row as the centre API shows it: the disclosed record only while delivered and not purged. */
function toItem(r: Row, cipher: DataCipher): AntenatalInboxItem {
  const status: AntenatalInboxStatus = r.status === 'withdrawn' ? 'withdrawn' : r.acknowledged_at !== null ? 'acknowledged' : 'new';
  const item: AntenatalInboxItem = {
    antenatalId: r.id,
    kind: 'antenatal',
    inbox: r.inbox_id,
    status,
    deliveredAt: iso(r.delivered_at) ?? '',
  };
  const times = {
    firstReadAt: iso(r.first_read_at),
    acknowledgedAt: iso(r.acknowledged_at),
    withdrawnAt: iso(r.withdrawn_at),
    bornAt: iso(r.born_at),
    purgedAt: iso(r.purged_at),
  };
  for (const [k, v] of Object.entries(times)) if (v) Object.assign(item, { [k]: v });
  if (r.status === 'delivered' && r.purged_at === null && r.disclosed !== null)
    item.record = cipher.openJson(r.disclosed, sealedPlace.antenatal('disclosed', r.id)) as DisclosedAntenatal;
  return item;
}

/** A centre's antenatal item as it is now, for a webhook push (no read audited: it is the sender's, not a person's). */
export async function antenatalItemNow(
  db: SqlClient,
  cipher: DataCipher,
  inboxId: string,
  id: string,
): Promise<AntenatalInboxItem | undefined> {
  const r = await db.query<Row>(`${SELECT} WHERE ${OWN} AND id = $2`, [inboxId, id]);
  const row = r.rows[0];
  return row ? toItem(row, cipher) : undefined;
}

/**
 * The centre API's antenatal items (migration 030, 037): what was disclosed to the centre, opened from its sealed
 * column (`antenatal_notifications.disclosed:<id>`); nothing once withdrawn or purged. Every item returned is audited
 * as read, and its first read stamped, in one transaction with the read.
 */
export class SqlAntenatalInbox implements AntenatalInbox {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher,
  ) {}

  private async read(inboxId: string, where: string, params: unknown[], reader: AuditActor, at: Date): Promise<Row[]> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<Row>(`${SELECT} WHERE ${where}`, params);
      if (r.rows.length === 0) return [];
      await tx.query(`UPDATE antenatal_notifications SET first_read_at = $2 WHERE id = ANY($1::uuid[]) AND first_read_at IS NULL`, [
        r.rows.map((x) => x.id),
        at,
      ]);
      await insertAuditEvents(
        tx,
        r.rows.map((x) => antenatal(readEvent(x.id, x.mother_nhs_number ?? undefined, inboxId, reader, at))),
        this.cipher,
      );
      return r.rows;
    });
  }

  async listAntenatal(
    inboxId: string,
    filter: { status?: AntenatalInboxStatus; limit: number; after?: string },
    reader: AuditActor,
    at: Date,
  ): Promise<{ items: AntenatalInboxItem[]; next?: string }> {
    const params: unknown[] = [inboxId];
    const where = [OWN];
    if (filter.status !== undefined) where.push(STATUS_WHERE[filter.status]);
    const after = cursorOf(filter.after);
    if (after) where.push(`(delivered_at, id) > ($${params.push(after.at)}::timestamptz, $${params.push(after.id)}::uuid)`);
    const l = params.push(filter.limit + 1);
    // The one more row than asked for only says whether there is a next page: it is neither returned nor audited.
    const probe = await this.db.query<{ id: string }>(
      `SELECT id FROM antenatal_notifications WHERE ${where.join(' AND ')} ORDER BY delivered_at, id LIMIT $${l}`,
      params,
    );
    const ids = probe.rows.slice(0, filter.limit).map((x) => x.id);
    const rows = await this.read(inboxId, `${OWN} AND id = ANY($2::uuid[]) ORDER BY delivered_at, id`, [inboxId, ids], reader, at);
    const items = rows.map((x) => toItem(x, this.cipher));
    const last = items[items.length - 1];
    return probe.rows.length > filter.limit && last ? { items, next: encodeCursor(last.deliveredAt, last.antenatalId) } : { items };
  }

  async getAntenatal(inboxId: string, id: string, reader: AuditActor, at: Date): Promise<AntenatalInboxItem | undefined> {
    const rows = await this.read(inboxId, `${OWN} AND id = $2`, [inboxId, id], reader, at);
    const row = rows[0];
    return row ? toItem(row, this.cipher) : undefined;
  }

  async acknowledgeAntenatal(
    inboxId: string,
    id: string,
    by: AuditActor,
    at: Date,
  ): Promise<'acknowledged' | 'already' | 'withdrawn' | 'not-found'> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query<{ status: string; acknowledged_at: unknown; mother_nhs_number: string | null }>(
        `SELECT status, acknowledged_at, mother_nhs_number FROM antenatal_notifications WHERE ${OWN} AND id = $2 FOR UPDATE`,
        [inboxId, id],
      );
      const row = r.rows[0];
      if (!row) return 'not-found';
      if (row.status === 'withdrawn') return 'withdrawn';
      if (row.acknowledged_at !== null) return 'already';
      await tx.query(`UPDATE antenatal_notifications SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1`, [
        id,
        at,
        typeof by === 'string' ? by : by.actor,
      ]);
      await insertAuditEvents(tx, [antenatal(acknowledgedEvent(id, row.mother_nhs_number ?? undefined, inboxId, by, at))], this.cipher);
      return 'acknowledged';
    });
  }
}
