import { createHash, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../src/logger.js';
import type { Database, SqlClient } from '../../src/ports/database.js';
import { checkpointSignatureValid, signCheckpoint, type AuditCheckpoint } from '../../src/domain/audit-checkpoint.js';
import type { AuditVerifyProblem, AuditVerifyResult } from '../../src/ports/audit-chain.js';

export type { AuditVerifyProblem, AuditVerifyResult };
import { migrationsDir } from './migrate.js';
import { iso } from './sql-helpers.js';

/**
 * The audit chain (migration 020): verification of the hash chain and its signed checkpoints, and the writer of
 * checkpoints. README, "Tamper-evident audit", says what is and is not detected.
 */

/** The hash before the first chained event. */
export const ZERO_HASH = '0'.repeat(64);
const GENESIS_ACTION = 'audit-chain-started';
const CHAIN_MIGRATION = '020_audit_chain.sql';

export interface AuditVerifyOptions {
  /** Public keys by key id (every key that has signed checkpoints: the current one and earlier ones). */
  publicKeys: ReadonlyMap<string, KeyObject>;
  /** Checkpoints from outside the database (the log's `auditCheckpoint` entries): each must be in the chain and in audit_checkpoints. */
  witness?: readonly AuditCheckpoint[];
  /** Fail when the latest valid checkpoint is older than this (ms before `now`): checkpoints (and events) after it may have been deleted. */
  maxCheckpointAgeMs?: number;
  now?: Date;
  /** Events read per query (ranges, then keyset paging, on seq). */
  pageSize?: number;
  /** Queries in flight at once (default 2; useful with a pool of as many connections). */
  parallel?: number;
}

/** The body of audit_event_canonical as migration 020 defines it: verification refuses a database whose function differs. */
function shippedCanonicalBody(): string {
  const sql = readFileSync(path.join(migrationsDir, CHAIN_MIGRATION), 'utf8');
  const m = /CREATE FUNCTION audit_event_canonical\(e audit_events\)[^$]*\$\$([\s\S]*?)\$\$/.exec(sql);
  if (m?.[1] === undefined) throw new Error(`${CHAIN_MIGRATION} defines no audit_event_canonical`);
  return m[1];
}

interface EventRow {
  seq: string;
  prev_hash: string | null;
  hash: string | null;
  computed: string;
  genesis: string | null;
}

interface CheckpointRow {
  seq: string;
  at: Date | string;
  chain_id: string;
  hash: string;
  key_id: string;
  signature: string;
}

/** Recomputes each event's hash from its canonical form in the database, and reads the links, in seq order. */
const EVENT_COLUMNS = `e.seq, e.prev_hash, e.hash, encode(sha256(convert_to(audit_event_canonical(e), 'UTF8')), 'hex') AS computed,
    CASE WHEN e.action = '${GENESIS_ACTION}' THEN e.details::text END AS genesis`;
const PAGE_SQL = `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2`;
const RANGE_SQL = `SELECT ${EVENT_COLUMNS} FROM audit_events e WHERE e.seq > $1 AND e.seq <= $2 ORDER BY e.seq`;

/**
 * The events in seq order, a page at a time. The chain's seqs have no gaps, so the events there at the start are read
 * by ranges of seq, `parallel` ranges in flight at once (the database hashes them on as many connections as the pool
 * gives), handed over in order; then those written meanwhile, by keyset. Seqs far sparser than the rows (tampering)
 * are read by keyset only.
 */
async function* eventPages(db: SqlClient, pageSize: number, parallel: number): AsyncGenerator<EventRow[]> {
  const span = await db.query<{ low: string | null; high: string | null; n: string }>(
    'SELECT min(seq) AS low, max(seq) AS high, count(*) AS n FROM audit_events',
  );
  const low = Number(span.rows[0]?.low ?? 0);
  const high = Number(span.rows[0]?.high ?? 0);
  const n = Number(span.rows[0]?.n ?? 0);
  let after = 0;
  if (n > 0 && high - low + 1 <= 2 * n + pageSize) {
    const inFlight: Promise<EventRow[]>[] = [];
    let next = low - 1;
    const launch = (): void => {
      if (next >= high) return;
      const from = next;
      next = Math.min(high, next + pageSize);
      const rows = db.query<EventRow>(RANGE_SQL, [from, next], { prepare: 'audit-verify-range' }).then((r) => r.rows);
      rows.catch(() => undefined); // awaited in order below; this only keeps a later page's failure from being unhandled meanwhile
      inFlight.push(rows);
    };
    for (let i = 0; i < parallel; i++) launch();
    for (let page = inFlight.shift(); page !== undefined; page = inFlight.shift()) {
      const rows = await page;
      launch();
      yield rows;
    }
    after = high;
  }
  for (;;) {
    const page = await db.query<EventRow>(PAGE_SQL, [after, pageSize], { prepare: 'audit-verify-page' });
    const last = page.rows[page.rows.length - 1];
    if (last !== undefined) {
      after = Number(last.seq);
      yield page.rows;
    }
    if (page.rows.length < pageSize) return;
  }
}

const MAX_PROBLEMS = 100;

/**
 * Verifies the whole audit chain, streaming it in pages (no transaction: the hub keeps writing meanwhile, and
 * PGlite's one connection is never held for long), and the checkpoints. Never throws for what it finds: every finding
 * is a problem in the result, the first bad event first.
 */
export async function verifyAuditChain(db: SqlClient, options: AuditVerifyOptions): Promise<AuditVerifyResult> {
  const problems: AuditVerifyProblem[] = [];
  const report = (problem: string, seq?: number): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(seq === undefined ? { problem } : { seq, problem });
  };
  const result: AuditVerifyResult = {
    ok: false,
    eventsChecked: 0,
    legacyEvents: 0,
    checkpointsChecked: 0,
    eventsAfterLastCheckpoint: 0,
    problems,
  };

  // 1. The canonical form in the database is the one shipped, and it covers every column but hash.
  const fn = await db.query<{ body: string }>(
    `SELECT p.prosrc AS body FROM pg_proc p WHERE p.proname = 'audit_event_canonical' AND p.pronamespace = current_schema()::regnamespace`,
  );
  const body = fn.rows[0]?.body;
  if (body === undefined) report('the database has no audit_event_canonical function (migration 020)');
  else if (body !== shippedCanonicalBody()) report('audit_event_canonical in the database differs from the one migration 020 defines');
  const columns = await db.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'audit_events'`,
  );
  for (const { name } of columns.rows) {
    if (name !== 'hash' && body !== undefined && !new RegExp(`\\be\\.${name}\\b`).test(body))
      report(`column ${name} of audit_events is not in the canonical form (audit_event_canonical, migration 020)`);
  }
  if (problems.length > 0) return finish(result);

  // 2. Checkpoints: each signature verifies with a known key.
  const stored = await db.query<CheckpointRow>('SELECT seq, at, chain_id, hash, key_id, signature FROM audit_checkpoints ORDER BY seq, at');
  const checkpoints: { c: AuditCheckpoint; source: 'table' | 'witness' }[] = stored.rows.map((r) => ({
    c: { chainId: r.chain_id, seq: Number(r.seq), hash: r.hash, at: iso(r.at) ?? '', keyId: r.key_id, signature: r.signature },
    source: 'table',
  }));
  const storedKeys = new Set(checkpoints.map(({ c }) => `${c.seq}|${c.at}|${c.signature}`));
  for (const w of options.witness ?? []) checkpoints.push({ c: w, source: 'witness' });
  /** Valid checkpoints by seq: the hash they vouch for there. */
  const expected = new Map<number, AuditCheckpoint[]>();
  for (const { c, source } of checkpoints) {
    result.checkpointsChecked++;
    const where = `${source === 'witness' ? 'the witness log’s' : 'stored'} checkpoint at seq ${c.seq} (${c.at})`;
    if (!options.publicKeys.has(c.keyId)) {
      report(`${where} is signed by key ${c.keyId}, which is not among the public keys given`, c.seq);
      continue;
    }
    if (!checkpointSignatureValid(c, options.publicKeys)) {
      report(`${where}: its signature does not verify with key ${c.keyId} (forged or altered checkpoint)`, c.seq);
      continue;
    }
    if (source === 'witness' && !storedKeys.has(`${c.seq}|${c.at}|${c.signature}`))
      report(`${where} is missing from audit_checkpoints (deleted)`, c.seq);
    expected.set(c.seq, [...(expected.get(c.seq) ?? []), c]);
    const last = result.lastCheckpoint;
    if (last === undefined || c.seq > last.seq || (c.seq === last.seq && c.at > last.at))
      result.lastCheckpoint = { seq: c.seq, at: c.at, keyId: c.keyId };
  }

  // 3. The events, in seq order: before the genesis event (sealed by it), then the chain.
  const pageSize = options.pageSize ?? 10000;
  const legacyDigest = createHash('sha256');
  let genesis: { seq: number; chainId: string } | undefined;
  let prev: { seq: number; hash: string } | undefined;
  let after = 0;
  for await (const page of eventPages(db, pageSize, options.parallel ?? 2)) {
    for (const row of page) {
      const seq = Number(row.seq);
      if (genesis === undefined && row.hash === null && row.genesis === null) {
        result.legacyEvents++;
        legacyDigest.update(row.computed);
        after = seq;
        continue;
      }
      result.eventsChecked++;
      result.lastSeq = seq;
      if (genesis === undefined) {
        genesis = checkGenesis(row, seq, result.legacyEvents, legacyDigest.digest('hex'), after, report);
        if (genesis !== undefined) result.chainId = genesis.chainId;
      } else if (prev !== undefined) {
        if (seq !== prev.seq + 1)
          report(
            `event${seq - prev.seq > 2 ? 's' : ''} ${prev.seq + 1}${seq - prev.seq > 2 ? `–${seq - 1}` : ''} missing (deleted): seq ${prev.seq} is followed by seq ${seq}`,
            prev.seq + 1,
          );
        else if (row.prev_hash !== prev.hash)
          report(`seq ${seq}: prev_hash does not match the hash of seq ${prev.seq} (events removed, inserted or reordered)`, seq);
      }
      if (row.hash === null) report(`seq ${seq} has no hash (written without the chain trigger)`, seq);
      else if (row.hash !== row.computed) report(`seq ${seq}: its content does not match its hash (altered)`, seq);
      for (const c of expected.get(seq) ?? []) {
        if (c.hash !== row.hash)
          report(
            `seq ${seq}: its hash differs from the one signed in the checkpoint of ${c.at} (the chain up to here was altered and rehashed)`,
            seq,
          );
        if (genesis !== undefined && c.chainId !== genesis.chainId)
          report(`checkpoint at seq ${seq} (${c.at}) is of another chain (${c.chainId})`, seq);
      }
      prev = { seq, hash: row.hash ?? '' };
      after = seq;
    }
  }
  if (genesis === undefined) report('no chained events: the genesis event of migration 020 is missing');

  // 4. The tail: every checkpoint vouches for an event that must still be there.
  const lastSeq = result.lastSeq ?? 0;
  for (const [seq, cs] of expected) {
    if (seq > lastSeq)
      report(
        `events ${lastSeq + 1}–${seq} missing (truncated tail): a checkpoint signed at ${cs[0]?.at ?? '?'} vouches for seq ${seq}, the chain ends at seq ${lastSeq}`,
        lastSeq + 1,
      );
  }
  result.eventsAfterLastCheckpoint =
    result.lastCheckpoint === undefined ? result.eventsChecked : Math.max(0, lastSeq - result.lastCheckpoint.seq);
  if (options.maxCheckpointAgeMs !== undefined) {
    const now = (options.now ?? new Date()).getTime();
    const at = result.lastCheckpoint === undefined ? undefined : Date.parse(result.lastCheckpoint.at);
    if (at === undefined || now - at > options.maxCheckpointAgeMs)
      report(
        `${at === undefined ? 'no valid checkpoint' : `the latest valid checkpoint (seq ${result.lastCheckpoint?.seq ?? '?'}, ${result.lastCheckpoint?.at ?? '?'})`} is older than ${Math.round(options.maxCheckpointAgeMs / 1000)} s: checkpoints, and the events they covered, may have been deleted`,
        result.lastCheckpoint === undefined ? undefined : result.lastCheckpoint.seq + 1,
      );
  }
  return finish(result);
}

function checkGenesis(
  row: EventRow,
  seq: number,
  legacyEvents: number,
  legacyDigest: string,
  legacyLastSeq: number,
  report: (problem: string, seq?: number) => void,
): { seq: number; chainId: string } | undefined {
  if (row.genesis === null) {
    report(
      `seq ${seq} is the first chained event but not the genesis event (audit-chain-started): the genesis was deleted or altered`,
      seq,
    );
    return undefined;
  }
  let details: { chainId?: unknown; legacyEvents?: unknown; legacyLastSeq?: unknown; legacyDigest?: unknown };
  try {
    details = JSON.parse(row.genesis) as typeof details;
  } catch {
    details = {};
  }
  if (row.prev_hash !== ZERO_HASH) report(`seq ${seq}: the genesis event's prev_hash is not ${ZERO_HASH.slice(0, 8)}…`, seq);
  if (
    Number(details.legacyEvents) !== legacyEvents ||
    Number(details.legacyLastSeq) !== legacyLastSeq ||
    details.legacyDigest !== legacyDigest
  )
    report(
      `the ${legacyEvents} events before the chain (seq ≤ ${legacyLastSeq}) do not match the seal of the genesis event (seq ${seq}): events from before migration 020 were altered, deleted or added`,
      legacyEvents > 0 ? 1 : seq,
    );
  return { seq, chainId: typeof details.chainId === 'string' ? details.chainId : '' };
}

function finish(result: AuditVerifyResult): AuditVerifyResult {
  result.problems.sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1));
  const first = result.problems[0];
  if (first !== undefined) result.firstProblem = first;
  result.ok = result.problems.length === 0;
  return result;
}

/** Reads the checkpoints a log holds (pino JSON lines with an `auditCheckpoint` member), for verification's witness. */
export function checkpointsFromLog(text: string): AuditCheckpoint[] {
  const out: AuditCheckpoint[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"auditCheckpoint"')) continue;
    try {
      const c = (JSON.parse(line) as { auditCheckpoint?: AuditCheckpoint }).auditCheckpoint;
      if (c !== undefined && typeof c.seq === 'number' && typeof c.signature === 'string') out.push(c);
    } catch {
      // not a log line of ours
    }
  }
  return out;
}

/**
 * Writes signed checkpoints: after `everyEvents` events since the last, or when the last is `everyMs` old (then even
 * with no new events, so that a missing recent checkpoint shows). Each is stored (audit_checkpoints) and logged.
 */
export class AuditCheckpointer {
  private chainId: string | undefined;

  constructor(
    private readonly db: Database,
    private readonly privateKey: KeyObject,
    private readonly logger: Logger,
    private readonly options: { everyEvents: number; everyMs: number },
  ) {}

  /** Writes a checkpoint if one is due (or `force`); returns it. */
  async tick(now = new Date(), force = false): Promise<AuditCheckpoint | undefined> {
    if (this.chainId === undefined) {
      const g = await this.db.query<{ chain_id: string }>(
        `SELECT details->>'chainId' AS chain_id FROM audit_events WHERE action = '${GENESIS_ACTION}' ORDER BY seq LIMIT 1`,
      );
      this.chainId = g.rows[0]?.chain_id;
      if (this.chainId === undefined) return undefined;
    }
    const head = await this.db.query<{ seq: string; hash: string | null; last_seq: string | null; last_at: Date | string | null }>(
      `SELECT e.seq, e.hash, c.seq AS last_seq, c.at AS last_at FROM (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) e
         LEFT JOIN LATERAL (SELECT seq, at FROM audit_checkpoints ORDER BY seq DESC, at DESC LIMIT 1) c ON true`,
    );
    const h = head.rows[0];
    if (h === undefined || h.hash === null) return undefined;
    const seq = Number(h.seq);
    const lastSeq = h.last_seq === null ? undefined : Number(h.last_seq);
    const lastAt = h.last_at === null ? undefined : Date.parse(iso(h.last_at) ?? '');
    const due =
      force ||
      lastSeq === undefined ||
      seq - lastSeq >= this.options.everyEvents ||
      (lastAt !== undefined && now.getTime() - lastAt >= this.options.everyMs);
    if (!due) return undefined;
    const c = signCheckpoint({ chainId: this.chainId, seq, hash: h.hash, at: now.toISOString() }, this.privateKey);
    await this.db.query(
      'INSERT INTO audit_checkpoints (seq, at, chain_id, hash, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [c.seq, c.at, c.chainId, c.hash, c.keyId, c.signature],
    );
    // The external witness: ids and hashes only, no personal data.
    this.logger.info({ auditCheckpoint: c }, 'audit: checkpoint signed');
    return c;
  }
}
