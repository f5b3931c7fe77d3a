import { plainJson, pseudo } from '../support/data-keys.js';
import { readFileSync } from 'node:fs';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';
import type { DecisionExplanation } from '../../src/pipeline/consent/explain.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;
const checker = new ResponseChecker(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument);
const PATH = '/v1/notifications/{id}/decision';

/** The answer, checked against the OpenAPI description (status, content type, body schema). */
async function conforming(res: Response): Promise<unknown> {
  const text = await res.text();
  const body: unknown = text === '' ? undefined : JSON.parse(text);
  expect(checker.check('GET', PATH, res.status, res.headers.get('content-type'), body)).toEqual([]);
  return body;
}

interface Row {
  id: string;
  decision: { rulebookId: string; rulebookVersion: string; rulebookHash?: string; ruleId: string; dataset?: string };
  inbox_id: string | null;
  disclosed: { mother?: { phone?: string; name?: unknown } } | null;
}

/**
 * Agreements per area end to end (issue 13 items 1 and 4): a newborn in Northgate and one in Southmoor, each decided
 * under its local authority's agreement, naming id, version and content hash; the versions loaded recorded once in
 * the audit; and the IG lead's explanation of each decision (GET /v1/notifications/{id}/decision), for role ig only.
 */
describe('Agreements per area, recorded and explained', () => {
  let t: TestHub;
  let client: MllpClient;
  const newborn = (o: NewbornAdtOptions) => describeNewborn({ ...RX1, messageTime: new Date(), ...o });
  const notificationOf = (nhs: string) =>
    pollUntil(async () => {
      const r = await t.hub.db.query<Row>('SELECT id, decision, inbox_id, disclosed FROM notifications WHERE baby_nhs_number = $1', [
        pseudo(nhs),
      ]);
      const row = r.rows[0];
      // The disclosed record is encrypted at rest (migration 029): read as the store reads it.
      return row && { ...row, disclosed: plainJson('notifications.disclosed', row.id, row.disclosed) as Row['disclosed'] };
    }, 'the notification');

  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  it('each agreement version is recorded once at start-up, with who, when and its content hash, in the audit', async () => {
    const { agreements } = t.hub.config;
    const loaded = await t.hub.db.query<{ content_sha256: string; agreement_id: string; version: string; loaded_by: string }>(
      'SELECT content_sha256, agreement_id, version, loaded_by FROM agreement_versions ORDER BY agreement_id',
    );
    // Births', the antenatal agreement and the trigger agreements (issue 17): every agreement in force.
    const { antenatal, triggers } = t.hub.config;
    const all = [...agreements.byId.values(), ...(antenatal ? [antenatal] : []), ...triggers.agreements.values()];
    expect(all.map((a) => a.id)).toEqual(expect.arrayContaining(['antenatal-with-consent', 'northgate-early-help-triggers']));
    expect(loaded.rows.map((r) => [r.agreement_id, r.version, r.content_sha256])).toEqual(
      all.sort((a, b) => a.id.localeCompare(b.id)).map((a) => [a.id, a.version, a.hash]),
    );
    expect(loaded.rows[0]?.loaded_by).toMatch(/^system:startup \(.+@.+ pid \d+\)$/);
    const events = await t.hub.db.query<{ actor: string; rulebook_version: string; details: { sha256: string; agreement: string } }>(
      `SELECT actor, rulebook_version, details FROM audit_events WHERE action = 'rulebook-loaded' ORDER BY seq`,
    );
    expect(events.rows.map((e) => e.rulebook_version).sort()).toEqual(all.map((a) => `${a.id}@${a.version}#sha256:${a.hash}`).sort());
    // The antenatal agreement's stored text is the loaded one.
    const stored = await t.hub.db.query<{ content: { rules: { id: string }[] } }>(
      `SELECT content FROM agreement_versions WHERE agreement_id = 'antenatal-with-consent'`,
    );
    expect(stored.rows[0]?.content.rules.map((r) => r.id)).toEqual(antenatal?.rules.map((r) => r.id));
    // A second start on the same store: nothing new is loaded, so nothing new is recorded.
    const { recordAgreementVersions } = await import('../../src/processing/agreement-versions.js');
    const { SqlDecisionHistory } = await import('../../adapters/store/sql-decision-history.js');
    const { createLogger } = await import('../../src/logger.js');
    await recordAgreementVersions(new SqlDecisionHistory(t.hub.db), agreements, createLogger('silent'), new Date(), [
      ...(antenatal ? [antenatal] : []),
      ...triggers.agreements.values(),
    ]);
    const again = await t.hub.db.query(`SELECT 1 FROM audit_events WHERE action = 'rulebook-loaded'`);
    expect(again.rows).toHaveLength(events.rows.length);
  });

  it('Northgate and Southmoor births are decided under their own agreements; each decision names version and hash', async () => {
    const north = newborn({ seed: 1301, controlId: 'AGR-1', postcodes: ['LS9 7AB'] });
    const south = newborn({ seed: 1302, controlId: 'AGR-2', postcodes: ['LS10 3AA'] });
    expect(await client.send(north.text)).toMatch(/MSA\|CA\|AGR-1/);
    expect(await client.send(south.text)).toMatch(/MSA\|CA\|AGR-2/);
    const n = await notificationOf(north.baby.nhsNumber);
    const s = await notificationOf(south.baby.nhsNumber);
    const byId = t.hub.config.agreements.byId;
    expect(n.decision).toMatchObject({
      rulebookId: 'offer-of-support',
      rulebookHash: byId.get('offer-of-support')?.hash,
      ruleId: 'offer-of-support',
    });
    expect(s.decision).toMatchObject({
      rulebookId: 'southmoor-early-help',
      rulebookHash: byId.get('southmoor-early-help')?.hash,
      ruleId: 'offer-of-support-by-letter',
      dataset: 'offer-of-support-by-letter',
    });
    expect(s.inbox_id).toBe('belle-isle');
    // What Belle Isle can see: the mother's name, never her phone (Southmoor's agreement).
    const item = await pollUntil(async () => {
      const res = await api(t.http, 'demo-belle-isle-key', `/v1/centres/belle-isle/notifications/${s.id}`);
      return res.status === 200 ? ((await res.json()) as { record: { mother?: { phone?: string; name?: unknown } } }) : undefined;
    }, 'Belle Isle sees the notification');
    expect(item.record.mother?.name).toBeDefined();
    expect(item.record.mother?.phone).toBeUndefined();
    const decided = await t.hub.db.query<{ rulebook_version: string }>(
      `SELECT rulebook_version FROM audit_events WHERE action = 'decided' AND notification_id = $1`,
      [s.id],
    );
    expect(decided.rows[0]?.rulebook_version).toBe(`southmoor-early-help@1.0.0#sha256:${byId.get('southmoor-early-help')?.hash ?? ''}`);
  });

  it('GET /v1/notifications/{id}/decision explains in words, for role ig only, and the read is audited', async () => {
    const baby = newborn({ seed: 1303, controlId: 'AGR-3', postcodes: ['LS10 3AA'], restricted: true });
    expect(await client.send(baby.text)).toMatch(/MSA\|CA\|AGR-3/);
    const n = await notificationOf(baby.baby.nhsNumber);
    expect(n.decision.ruleId).toBe('restricted-record');

    for (const key of ['demo-belle-isle-key', 'demo-osmondthorpe-key', 'demo-northgate-feed-key', 'demo-admin-key']) {
      const res = await api(t.http, key, `/v1/notifications/${n.id}/decision`);
      expect([key, res.status]).toEqual([key, 403]);
      await conforming(res);
    }
    expect((await api(t.http, undefined, `/v1/notifications/${n.id}/decision`)).status).toBe(401);
    const missing = await api(t.http, 'demo-ig-key', `/v1/notifications/00000000-0000-4000-8000-000000000000/decision`);
    expect(missing.status).toBe(404);
    await conforming(missing);
    expect((await api(t.http, 'demo-ig-key', `/v1/notifications/not-a-uuid/decision`)).status).toBe(404);

    const res = await api(t.http, 'demo-ig-key', `/v1/notifications/${n.id}/decision`);
    expect(res.status).toBe(200);
    const e = (await conforming(res)) as DecisionExplanation;
    const southmoor = t.hub.config.agreements.byId.get('southmoor-early-help');
    expect(e).toMatchObject({
      notificationId: n.id,
      explained: true,
      agreement: { id: 'southmoor-early-help', version: '1.0.0', sha256: southmoor?.hash, inForce: true },
      outcome: { effect: 'review' },
      decidingRule: { ruleId: 'restricted-record' },
      rulesNotApplied: [{ ruleId: 'baby-deceased', notHeld: [{ condition: 'baby-deceased', held: false }] }],
      dataset: { name: 'safeguarding-review' },
    });
    expect(e.dataset?.leftOut.map((f) => f.field)).toEqual(expect.arrayContaining(['familyAddress', 'mother.phone', 'mother.address']));
    expect(e.summary.join(' ')).toContain('Rule “restricted-record” decided, because the record is marked restricted or very restricted');
    // No personal data in the explanation.
    const text = JSON.stringify(e);
    for (const v of [baby.baby.nhsNumber, baby.mother?.nhsNumber ?? 'none', 'LS10 3AA']) expect(text).not.toContain(v);
    const reads = await t.hub.db.query<{ actor: string; subject_nhs_number: string; details: { query: string } }>(
      `SELECT actor, subject_nhs_number, details FROM audit_events WHERE action = 'read' AND notification_id = $1`,
      [n.id],
    );
    expect(reads.rows.filter((r) => r.details.query === 'decision-explanation')).toEqual([
      {
        actor: 'client:ig-lead',
        subject_nhs_number: pseudo(baby.baby.nhsNumber),
        details: { query: 'decision-explanation', explained: true },
      },
    ]);
  });

  it('a decision made by an earlier version is explained with that version’s stored text, marked not in force', async () => {
    const baby = newborn({ seed: 1305, controlId: 'AGR-5', postcodes: ['LS9 7AB'] });
    expect(await client.send(baby.text)).toMatch(/MSA\|CA\|AGR-5/);
    const n = await notificationOf(baby.baby.nhsNumber);
    // Version 1.0.0 as it was loaded once (its text in agreement_versions), and a decision that names it.
    const { rulebookHash } = await import('../../src/pipeline/consent/rulebook.js');
    const { hash: _h, ...current } = t.hub.config.rulebook;
    const older = { ...current, version: '1.0.0' };
    const hash = rulebookHash(older);
    await t.hub.db.query(
      `INSERT INTO agreement_versions (content_sha256, agreement_id, version, content, first_loaded_at, loaded_by) VALUES ($1, $2, '1.0.0', $3, now(), 'test')`,
      [hash, older.id, JSON.stringify(older)],
    );
    await t.hub.db.query(
      `UPDATE notifications SET decision = decision || jsonb_build_object('rulebookHash', $2::text, 'rulebookVersion', '1.0.0') WHERE id = $1`,
      [n.id, hash],
    );
    const e = (await conforming(await api(t.http, 'demo-ig-key', `/v1/notifications/${n.id}/decision`))) as DecisionExplanation;
    expect(e).toMatchObject({ explained: true, agreement: { id: 'offer-of-support', version: '1.0.0', sha256: hash, inForce: false } });
    expect(e.rulesNotApplied.map((r) => r.ruleId)).toEqual([
      'baby-deceased',
      'restricted-record',
      'parent-objected',
      'young-parent',
      'offer-of-support-with-clinical',
    ]);
  });

  it('a decision made by a version the hub no longer holds is not explained with another', async () => {
    const baby = newborn({ seed: 1304, controlId: 'AGR-4', postcodes: ['LS9 7AB'] });
    expect(await client.send(baby.text)).toMatch(/MSA\|CA\|AGR-4/);
    const n = await notificationOf(baby.baby.nhsNumber);
    // As if made by an older text of the agreement (a hash never loaded): the stored decision is all there is.
    await t.hub.db.query(`UPDATE notifications SET decision = jsonb_set(decision, '{rulebookHash}', to_jsonb($2::text)) WHERE id = $1`, [
      n.id,
      'f'.repeat(64),
    ]);
    const e = (await conforming(await api(t.http, 'demo-ig-key', `/v1/notifications/${n.id}/decision`))) as DecisionExplanation;
    expect(e.explained).toBe(false);
    expect(e.agreement).toMatchObject({ id: 'offer-of-support', sha256: 'f'.repeat(64), inForce: false });
    expect(e.caveat).toContain('no longer holds');
    expect(e.rulesNotApplied).toEqual([]);
  });
});
