import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPglite } from '../../adapters/store/pglite-database.js';
import { migrate } from '../../adapters/store/migrate.js';
import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import { SqlIgReports } from '../../adapters/store/sql-ig-reports.js';
import { main as disclosuresCli } from '../../adapters/cli/audit-disclosures.js';
import { nhsCheckDigit } from '../../src/domain/nhs-number.js';
import { deliveredEvent, readEvent, acknowledgedEvent } from '../../src/processing/inbox-events.js';
import type { AuditEventInput } from '../../src/ports/audit.js';
import type { Database } from '../../src/ports/database.js';
import type { DisclosureReport } from '../../src/pipeline/reports/disclosure-report.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pseudo } from '../support/data-keys.js';

/** A valid NHS number from a nine-digit stem (the check digit added; a stem with no valid digit is moved on). */
function nhs(stem: number): string {
  for (let s = stem; ; s++) {
    const first9 = String(s).padStart(9, '0');
    const check = nhsCheckDigit(first9);
    if (check !== undefined) return `${first9}${check}`;
  }
}

const RULE = {
  ruleId: 'offer-of-support',
  rulebookId: 'leeds-default',
  rulebookVersion: '1.2.0',
  rulebookHash: 'a'.repeat(64),
  lawfulBasis: 'UK GDPR Article 6(1)(e) public task',
};

async function addMessage(db: Database, at: Date, feedId: string | null): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO messages (id, received_at, channel, feed_id, size_bytes, sha256, status, updated_at)
     VALUES ($1, $2, 'http', $3, 10, 'x', 'processed', $2)`,
    [id, at, feedId],
  );
  return id;
}

async function addNotification(db: Database, baby: string | null, mother: string | null, inbox: string, at: Date) {
  const messageId = await addMessage(db, at, 'rx1-maternity');
  const id = randomUUID();
  await db.query(
    `INSERT INTO notifications (id, message_id, subject_key, created_at, baby_nhs_number, mother_nhs_number, decision, route, inbox_id, dataset, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8, 'offer-of-support', 'delivered')`,
    [id, messageId, `key-${id}`, at, baby, mother, JSON.stringify({ effect: 'permit', ...RULE, dataset: 'offer-of-support' }), inbox],
  );
  return { id, messageId, baby: baby ?? undefined };
}

const minutes = (base: Date, m: number): Date => new Date(base.getTime() + m * 60_000);

/**
 * Issue 14 items 4 and 5: a person's disclosure report lists every disclosure, withdrawal and read about them and
 * nothing about anyone else (a twin, another family), through the store, the API (JSON and CSV) and the command
 * line, each generation audited; and the counts reports are exact for a generated stream across a clock change.
 */
describe('IG reports: subject-access disclosures and counts', () => {
  let t: TestHub;
  let db: Database;
  const mother = nhs(401000001);
  const twinA = nhs(401000101);
  const twinB = nhs(401000201);
  const olderChild = nhs(401000301);
  const otherBaby = nhs(401000401);
  const otherMother = nhs(401000501);
  const unknown = nhs(401000901);
  const t0 = new Date('2026-03-02T09:00:00Z');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestHub();
    db = t.hub.db;
    const audit = new SqlAuditLog(db);
    const nA = await addNotification(db, twinA, mother, 'osmondthorpe', t0);
    const nB = await addNotification(db, twinB, mother, 'safeguarding-review', t0);
    const nC = await addNotification(db, olderChild, mother, 'osmondthorpe', minutes(t0, -500_000));
    const nX = await addNotification(db, otherBaby, otherMother, 'osmondthorpe', t0);
    Object.assign(ids, { nA: nA.id, nB: nB.id, nC: nC.id, nX: nX.id });
    const delivered = (n: { id: string; messageId: string; baby?: string }, inbox: string, at: Date): AuditEventInput =>
      deliveredEvent(
        {
          notificationId: n.id,
          messageId: n.messageId,
          ...(n.baby ? { babyNhsNumber: n.baby } : {}),
          decision: RULE,
          dataset: 'offer-of-support',
        },
        inbox,
        at,
      );
    const events: AuditEventInput[] = [
      // Twin A: decided and routed (not listed), disclosed to Osmondthorpe, read there by a person (whose name would
      // be a formula in a spreadsheet), taken on, an update disclosed, moved to Harehills, read there by its client.
      {
        at: minutes(t0, 0),
        actor: 'system:worker',
        action: 'decided',
        notificationId: nA.id,
        subjectNhsNumber: twinA,
        ruleId: RULE.ruleId,
        outcome: 'permit',
      },
      {
        at: minutes(t0, 0),
        actor: 'system:worker',
        action: 'routed',
        notificationId: nA.id,
        subjectNhsNumber: twinA,
        recipient: 'osmondthorpe',
      },
      delivered(nA, 'osmondthorpe', minutes(t0, 1)),
      readEvent(nA.id, twinA, 'osmondthorpe', { actor: 'user:w1', name: '=HYPERLINK("http://x",1), Wendy' }, minutes(t0, 5)),
      acknowledgedEvent(nA.id, twinA, 'osmondthorpe', { actor: 'user:w1', name: 'Wendy Worker' }, minutes(t0, 6)),
      {
        at: minutes(t0, 10),
        actor: 'system:worker',
        action: 'updated',
        notificationId: nA.id,
        subjectNhsNumber: twinA,
        recipient: 'osmondthorpe',
        ruleId: RULE.ruleId,
        details: { dataset: 'offer-of-support', fields: ['familyAddress', 'mother.phone'] },
      },
      {
        at: minutes(t0, 20),
        actor: 'system:worker',
        action: 'withdrawn',
        notificationId: nA.id,
        subjectNhsNumber: twinA,
        recipient: 'osmondthorpe',
        ruleId: RULE.ruleId,
        outcome: 'moved-away',
        details: { reason: 'The notification no longer belongs in this inbox; it is withdrawn and its record no longer shown' },
      },
      delivered(nA, 'harehills', minutes(t0, 21)),
      readEvent(nA.id, twinA, 'harehills', 'client:harehills', minutes(t0, 30)),
      // An IG lead's search about twin A: not a read by a recipient.
      { at: minutes(t0, 31), actor: 'user:ig', action: 'read', subjectNhsNumber: twinA, details: { query: 'audit-search' } },
      // Twin B: to the safeguarding review inbox, read by a reviewer.
      delivered(nB, 'safeguarding-review', minutes(t0, 2)),
      readEvent(nB.id, twinB, 'safeguarding-review', { actor: 'user:r1', name: 'Rita Reviewer' }, minutes(t0, 40)),
      // The older child: disclosed, then withdrawn (a death: reported only as a neutral category).
      delivered(nC, 'osmondthorpe', minutes(t0, -499_000)),
      {
        at: minutes(t0, -498_000),
        actor: 'system:worker',
        action: 'withdrawn',
        notificationId: nC.id,
        subjectNhsNumber: olderChild,
        recipient: 'osmondthorpe',
        outcome: 'withdrawn-from-inbox',
        details: { reason: 'A later message reports the baby has died; the notification is withdrawn and its record no longer shown' },
      },
      // Another family, at the same centre.
      delivered(nX, 'osmondthorpe', minutes(t0, 3)),
      readEvent(nX.id, otherBaby, 'osmondthorpe', { actor: 'user:w1', name: 'Wendy Worker' }, minutes(t0, 7)),
    ];
    await audit.append(events);
  });

  afterAll(async () => {
    await t.stop();
  });

  const disclosures = async (nhsNumber: string, query = '', accept = 'application/json') =>
    api(t.http, 'demo-ig-key', `/v1/subjects/${nhsNumber}/disclosures${query}`, { headers: { accept } });

  it('lists for the mother every disclosure, update, withdrawal and read of her notifications, and nothing about anyone else', async () => {
    const res = await disclosures(mother, '?purpose=SAR%20ref%20123');
    expect(res.status).toBe(200);
    const report = (await res.json()) as DisclosureReport;
    expect(report.notifications).toBe(3);
    const summary = report.entries.map((e) => `${e.kind} ${e.notificationId} ${e.recipient?.inboxId ?? ''}`);
    expect(summary).toEqual([
      `disclosed ${ids.nC} osmondthorpe`,
      `withdrawn ${ids.nC} osmondthorpe`,
      `disclosed ${ids.nA} osmondthorpe`,
      `disclosed ${ids.nB} safeguarding-review`,
      `read ${ids.nA} osmondthorpe`,
      `taken-on ${ids.nA} osmondthorpe`,
      `updated ${ids.nA} osmondthorpe`,
      `withdrawn ${ids.nA} osmondthorpe`,
      `disclosed ${ids.nA} harehills`,
      `read ${ids.nA} harehills`,
      `read ${ids.nB} safeguarding-review`,
    ]);
    expect(report.entries.every((e) => e.subjectRole === 'mother')).toBe(true);
    const first = report.entries.find((e) => e.kind === 'disclosed' && e.notificationId === ids.nA);
    expect(first).toMatchObject({
      recipient: { inboxId: 'osmondthorpe', kind: 'centre' },
      dataset: 'offer-of-support',
      ruleId: RULE.ruleId,
      agreement: `leeds-default@1.2.0#sha256:${'a'.repeat(64)}`,
      lawfulBasis: RULE.lawfulBasis,
    });
    expect(first?.recipient?.localAuthority).toBeDefined();
    expect(first?.fields).toEqual(expect.arrayContaining(['baby.name', 'familyAddress']));
    expect(report.entries.find((e) => e.kind === 'disclosed' && e.notificationId === ids.nB)?.recipient?.kind).toBe('review');
    expect(report.entries.filter((e) => e.kind === 'withdrawn').map((e) => e.withdrawalReason)).toEqual(['record-changed', 'moved-area']);
    expect(report.entries.filter((e) => e.kind === 'read').map((e) => e.by?.actor)).toEqual(['user:w1', 'client:harehills', 'user:r1']);
    // Nothing about the other family, and no other person's identifiers (the twins' own numbers) at all.
    const text = JSON.stringify(report);
    for (const other of [ids.nX, otherBaby, otherMother, twinA, twinB, olderChild]) expect(text).not.toContain(other);
    expect(text).not.toMatch(/died/);
  });

  it('lists for a twin their own notification only: the other twin’s is absent', async () => {
    const a = (await (await disclosures(twinA)).json()) as DisclosureReport;
    expect(a.notifications).toBe(1);
    expect(new Set(a.entries.map((e) => e.notificationId))).toEqual(new Set([ids.nA]));
    expect(a.entries.map((e) => e.kind)).toEqual(['disclosed', 'read', 'taken-on', 'updated', 'withdrawn', 'disclosed', 'read']);
    expect(a.entries.every((e) => e.subjectRole === 'baby')).toBe(true);
    expect(new Set(a.entries.filter((e) => e.kind === 'read').map((e) => e.recipient?.inboxId))).toEqual(
      new Set(['osmondthorpe', 'harehills']),
    );
    const b = (await (await disclosures(twinB)).json()) as DisclosureReport;
    expect(b.entries.map((e) => `${e.kind} ${e.notificationId}`)).toEqual([`disclosed ${ids.nB}`, `read ${ids.nB}`]);
    expect(JSON.stringify(b)).not.toContain(ids.nA);
  });

  it('answers an unknown NHS number with an empty report, and a bad one with a problem naming the field', async () => {
    const res = await disclosures(unknown);
    expect(res.status).toBe(200);
    const report = (await res.json()) as DisclosureReport;
    expect(report.notifications).toBe(0);
    expect(report.entries).toEqual([]);
    const bad = await disclosures(`${unknown.slice(0, 9)}${(Number(unknown[9]) + 1) % 10}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['nhsNumber']);
    const badRange = await disclosures(mother, '?since=2026-13-01&format=xml');
    expect(((await badRange.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(['format', 'since']);
    const centre = await api(t.http, 'demo-osmondthorpe-key', `/v1/subjects/${mother}/disclosures`);
    expect(centre.status).toBe(403);
    // A HEAD discloses nothing, so it generates and exports nothing.
    const head = await api(t.http, 'demo-ig-key', `/v1/subjects/${otherMother}/disclosures`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const exported = await db.query(`SELECT 1 FROM audit_events WHERE action = 'exported' AND subject_nhs_number = ANY($1::text[])`, [
      [otherMother, pseudo(otherMother)],
    ]);
    expect(exported.rows).toHaveLength(0);
  });

  it('limits the report to a time window', async () => {
    const res = await disclosures(
      mother,
      `?since=${encodeURIComponent(minutes(t0, 15).toISOString())}&until=${encodeURIComponent(minutes(t0, 35).toISOString())}`,
    );
    const report = (await res.json()) as DisclosureReport;
    expect(report.entries.map((e) => e.kind)).toEqual(['withdrawn', 'disclosed', 'read']);
  });

  it('gives CSV (Accept or ?format=csv), RFC 4180 quoted, with formula cells neutralised', async () => {
    for (const res of [await disclosures(twinA, '', 'text/csv'), await disclosures(twinA, '?format=csv')]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const csv = await res.text();
      const lines = csv.split('\r\n');
      expect(lines[0]).toMatch(/^time,event,notification,subject role,recipient inbox,recipient name/);
      expect(lines).toHaveLength(1 + 7 + 1); // header, seven entries, and the empty string after the last CRLF
      expect(csv).toContain(`"'=HYPERLINK(""http://x"",1), Wendy"`);
      expect(csv).not.toMatch(/,=HYPERLINK/);
    }
  });

  it('audits every generation as an export: who, whose, why, which format', async () => {
    const r = await db.query<{
      actor: string;
      subject_nhs_number: string;
      outcome: string;
      details: { purpose: string | null; via: string };
    }>(`SELECT actor, subject_nhs_number, outcome, details FROM audit_events WHERE action = 'exported' ORDER BY seq`);
    // New events name their subject by its pseudonym (migration 038).
    const mine = r.rows.filter((x) => x.subject_nhs_number === pseudo(mother));
    expect(mine[0]).toMatchObject({ actor: 'client:ig-lead', outcome: 'json', details: { purpose: 'SAR ref 123', via: 'api' } });
    expect(r.rows.some((x) => x.subject_nhs_number === pseudo(twinA) && x.outcome === 'csv')).toBe(true);
    // The failed requests (bad NHS number, bad query, wrong role) generated nothing and so exported nothing.
    expect(r.rows.every((x) => x.subject_nhs_number !== '0' && x.subject_nhs_number !== pseudo('0'))).toBe(true);
    expect(r.rows.filter((x) => x.subject_nhs_number === pseudo(mother))).toHaveLength(2);
  });

  it('runs from the command line on the store the hub uses, as CSV or JSON, audited as the operating-system user', async () => {
    let out = '';
    let err = '';
    const write = (to: 'out' | 'err') => ({ write: (s: string) => (to === 'out' ? (out += s) : (err += s)) });
    if (t.database.url !== undefined) {
      const code = await disclosuresCli([twinB, '--format', 'csv', '--purpose', 'SAR 9'], write('out'), write('err'), {
        DATABASE_URL: t.database.url,
      });
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out.split('\r\n').filter(Boolean)).toHaveLength(3);
      const r = await db.query<{ actor: string; details: { purpose: string } }>(
        `SELECT actor, details FROM audit_events WHERE action = 'exported' AND subject_nhs_number = $1 AND actor LIKE 'cli:%'`,
        [pseudo(twinB)],
      );
      expect(r.rows.map((x) => x.details)).toEqual([expect.objectContaining({ purpose: 'SAR 9', via: 'cli' })]);
    } else {
      // The hub's PGlite is in memory: the CLI is run on an embedded store of its own (STORK_DATA_DIR), migrated here.
      const dir = await mkdtemp(path.join(tmpdir(), 'stork-disclosures-'));
      try {
        const store = await openPglite(path.join(dir, 'pglite'));
        await migrate(store);
        await store.close();
        const code = await disclosuresCli([unknown, '--since', '2026-01-01'], write('out'), write('err'), { STORK_DATA_DIR: dir });
        expect({ code, err }).toEqual({ code: 0, err: '' });
        expect(JSON.parse(out)).toMatchObject({ nhsNumber: unknown, notifications: 0, entries: [] });
        const again = await openPglite(path.join(dir, 'pglite'));
        const r = await again.query<{ actor: string }>(`SELECT actor FROM audit_events WHERE action = 'exported'`);
        await again.close();
        expect(r.rows.map((x) => x.actor)).toEqual([expect.stringMatching(/^cli:/)]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const bad = await disclosuresCli(['123'], write('out'), write('err'), {});
    expect(bad).toBe(2);
    expect(err).toMatch(/nhs number/);
  });

  describe('counts per feed and London day, per centre, per rule', () => {
    // The clocks go back at 02:00 BST on Sunday 25 October 2026: that London day is 25 hours long.
    const start = new Date('2026-10-23T20:00:00Z');
    const STEP_MIN = 37;
    const N = 400;
    interface Counts {
      received: number;
      accepted: number;
      rejected: number;
      quarantined: number;
    }
    const expected = new Map<string, Counts>();
    const zero = (): Counts => ({ received: 0, accepted: 0, rejected: 0, quarantined: 0 });
    const londonDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

    beforeAll(async () => {
      const events: AuditEventInput[] = [];
      for (let i = 0; i < N; i++) {
        const at = minutes(start, i * STEP_MIN);
        const feed = i % 3 === 0 ? 'rx9-maternity' : 'rx1-maternity';
        const messageId = await addMessage(db, at, feed);
        const kind = i % 5 === 0 ? 'rejected' : i % 7 === 0 ? 'quarantined' : 'accepted';
        // A sender not verified as its feed acts as its client: the feed is then its message's.
        const actor = i % 11 === 0 ? 'client:northgate' : `feed:${feed}`;
        events.push({ at, actor, action: 'received', messageId });
        if (kind === 'rejected')
          events.push({
            at,
            actor,
            action: 'rejected',
            messageId,
            outcome: 'AR',
            details: { reason: i % 2 ? 'PID-3: no NHS number' : 'MSH-9: not a birth' },
          });
        else events.push({ at, actor, action: 'validated', messageId, outcome: 'valid' });
        if (kind === 'quarantined')
          events.push({
            at: minutes(at, 1),
            actor: 'system:worker',
            action: 'rejected',
            messageId,
            outcome: 'quarantined',
            details: { reason: 'x' },
          });
        const key = `${feed} ${londonDay.format(at)}`;
        const e = expected.get(key) ?? zero();
        e.received += 1;
        if (kind === 'rejected') e.rejected += 1;
        else e.accepted += 1;
        if (kind === 'quarantined') {
          // The worker's quarantine is dated a minute later: counted on that minute's London day.
          const qKey = `${feed} ${londonDay.format(minutes(at, 1))}`;
          const q = qKey === key ? e : (expected.get(qKey) ?? zero());
          q.quarantined += 1;
          expected.set(qKey, q);
        }
        expected.set(key, e);
      }
      await new SqlAuditLog(db).append(events);
    });

    it('counts received, accepted, rejected (with reasons) and quarantined per feed and London day, across the clock change', async () => {
      const res = await api(t.http, 'demo-ig-key', '/v1/reports/feeds?from=2026-10-24&to=2026-10-26');
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        from: string;
        days: { feedId: string; day: string; received: number; accepted: number; rejected: number; quarantined: number }[];
        rejections: { feedId: string; reason: string; count: number }[];
      };
      const want = [...expected.entries()]
        .filter(([k]) => /2026-10-2[456]$/.test(k))
        .map(([k, v]) => ({ feedId: k.split(' ')[0], day: k.split(' ')[1], ...v }))
        .sort((a, b) => `${a.feedId} ${a.day}`.localeCompare(`${b.feedId} ${b.day}`));
      const got = body.days
        .filter((d) => d.feedId !== '')
        .map((d) => ({
          feedId: d.feedId,
          day: d.day,
          received: d.received,
          accepted: d.accepted,
          rejected: d.rejected,
          quarantined: d.quarantined,
        }));
      expect(got).toEqual(want);
      // 25 October had 25 hours: more messages than 24 October at one every 37 minutes.
      const rx1 = (day: string) => body.days.find((d) => d.feedId === 'rx1-maternity' && d.day === day)?.received ?? 0;
      const rx9 = (day: string) => body.days.find((d) => d.feedId === 'rx9-maternity' && d.day === day)?.received ?? 0;
      expect(rx1('2026-10-25') + rx9('2026-10-25')).toBeGreaterThan(rx1('2026-10-24') + rx9('2026-10-24'));
      const rejected = body.days.reduce((s, d) => s + (d.feedId === '' ? 0 : d.rejected), 0);
      expect(body.rejections.filter((r) => r.feedId !== '').reduce((s, r) => s + r.count, 0)).toBe(rejected);
      expect(new Set(body.rejections.map((r) => r.reason))).toEqual(new Set(['PID-3: no NHS number', 'MSH-9: not a birth']));
    });

    it('counts per centre and per rule, and validates the range', async () => {
      const centres = (await (await api(t.http, 'demo-ig-key', '/v1/reports/centres?from=2026-03-02&to=2026-03-02')).json()) as {
        centres: {
          inboxId: string;
          name: string;
          delivered: number;
          reads: number;
          notificationsRead: number;
          takenOn: number;
          withdrawn: number;
        }[];
      };
      expect(centres.centres.find((c) => c.inboxId === 'osmondthorpe')).toMatchObject({
        delivered: 2,
        reads: 2,
        notificationsRead: 2,
        takenOn: 1,
        withdrawn: 1,
      });
      expect(centres.centres.find((c) => c.inboxId === 'harehills')).toMatchObject({ delivered: 1, reads: 1, takenOn: 0, withdrawn: 0 });
      expect(centres.centres.find((c) => c.inboxId === 'safeguarding-review')).toMatchObject({ delivered: 1, reads: 1 });
      const rules = (await (await api(t.http, 'demo-ig-key', '/v1/reports/rules?from=2026-03-01&to=2026-03-03')).json()) as {
        rules: { ruleId: string; effect: string; decisions: number }[];
      };
      expect(rules.rules).toEqual([expect.objectContaining({ ruleId: RULE.ruleId, effect: 'permit', decisions: 1 })]);
      for (const [query, field] of [
        ['from=2026-02-30', 'from'],
        ['from=2026-03-05&to=2026-03-01', 'from'],
        ['from=2025-01-01&to=2026-03-01', 'from'],
        ['to=tomorrow', 'to'],
      ] as const) {
        const res = await api(t.http, 'demo-ig-key', `/v1/reports/feeds?${query}`);
        expect(res.status).toBe(400);
        expect(((await res.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe(field);
      }
      expect((await api(t.http, 'demo-admin-key', '/v1/reports/rules')).status).toBe(403);
    });

    it('reads the counts from the store directly in the same shape (the pages use it)', async () => {
      const reports = new SqlIgReports(db);
      const days = await reports.feedDays(new Date('2026-10-23T23:00:00Z'), new Date('2026-10-24T23:00:00Z'));
      expect(days.every((d) => d.day === '2026-10-24')).toBe(true);
      expect(days.length).toBeGreaterThan(0);
    });
  });
});
