import { plainJson, pseudo } from '../support/data-keys.js';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { readFileSync } from 'node:fs';
import { loadMatchModel } from '../../src/config/matching.js';
import { OPENAPI_FILE } from '../../adapters/http/routes/openapi.js';
import { ResponseChecker, type OpenApiDocument } from '../support/openapi.js';

const checker = new ResponseChecker(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument);

/** Checks an answer against the OpenAPI document (a clone is read, so the caller can still read it); returns it. */
async function documented(method: string, template: string, res: Response): Promise<Response> {
  const copy = res.clone();
  const type = copy.headers.get('content-type');
  const text = await copy.text();
  const body: unknown = (type ?? '').includes('json') ? JSON.parse(text) : text;
  expect(checker.check(method, template, res.status, type, body)).toEqual([]);
  return res;
}

const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;
const ADMIN = 'demo-admin-key';
const CENTRE = 'demo-osmondthorpe-key';
const FEED = 'demo-northgate-feed-key';

interface MotherFields {
  family: string;
  given: string;
  /** YYYYMMDD */
  dob: string;
  postcode: string;
  phone?: string;
  nhs?: string;
}

/** An NK1 mother segment as the ITK ADT mapping reads it (name, relationship, address, phone, date of birth, NHS number). */
function nk1(m: MotherFields): string {
  const f: string[] = [
    'NK1',
    '1',
    `${m.family}^${m.given}^^^MRS^^L`,
    'MTH^Mother^HL70063',
    `1 Test Street^^LEEDS^WEST YORKSHIRE^${m.postcode}^GBR^H`,
  ];
  f[5] = m.phone ?? '';
  f[16] = m.dob;
  f[20] = 'EN';
  f[33] = m.nhs !== undefined ? `${m.nhs}^^^NHS^NH` : '';
  return Array.from({ length: f.length }, (_, i) => f[i] ?? '').join('|');
}

/** A newborn ADT whose mother is `m` (the generated NK1 replaced). */
function birthTo(m: MotherFields, o: NewbornAdtOptions): { text: string; babyNhs: string } {
  const b = describeNewborn({ ...RX1, messageTime: new Date(), ...o });
  const text = b.text
    .split('\r')
    .map((s) => (s.startsWith('NK1|') ? nk1(m) : s))
    .join('\r');
  return { text, babyNhs: b.baby.nhsNumber };
}

interface LinkRow {
  family_id: string;
  method: string;
  score: number | null;
  contributions: { field: string; level: string; weight: number }[] | null;
}

describe('Family records: births placed in families, held matches reviewed, a register imported', () => {
  let t: TestHub;
  let client: MllpClient;

  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  const send = async (text: string): Promise<void> => {
    expect((await client.send(text)).split('\r')[1]?.split('|')[1]).toBe('CA');
  };
  /** The family link of the notification of this baby, once processing has made it. */
  const linkOf = (babyNhs: string): Promise<LinkRow> =>
    pollUntil(async () => {
      const r = await t.database.db.query<LinkRow>(
        `SELECT l.family_id, l.method, l.score, l.contributions FROM family_links l JOIN notifications n ON n.id = l.notification_id
         WHERE n.baby_nhs_number = $1`,
        [pseudo(babyNhs)],
      );
      return r.rows[0];
    }, 'the baby placed in a family');
  const children = async (familyId: string): Promise<string[]> =>
    (
      await t.database.db.query<{ child_key: string; record: unknown }>(
        'SELECT child_key, record FROM family_children WHERE family_id = $1 ORDER BY child_key',
        [familyId],
      )
    ).rows
      // Stored as pseudonyms (migration 038): shown as the 'nhs:' key each stands for, read from the child's record.
      .map((r) => {
        const nhs = (plainJson('family_children.record', `${familyId}/${r.child_key}`, r.record) as { nhsNumber?: string }).nhsNumber;
        return nhs !== undefined && pseudo(`nhs:${nhs}`) === r.child_key ? `nhs:${nhs}` : r.child_key;
      })
      .sort();
  const importJson = async (rows: unknown, key = ADMIN, centre = 'osmondthorpe') =>
    documented(
      'POST',
      '/v1/families/import',
      await api(t.http, key, `/v1/families/import?centre=${centre}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(rows),
      }),
    );

  test('twins join one family as two children; a sibling joins by the mother’s NHS number, another without it by Fellegi–Sunter', async () => {
    const mother: MotherFields = {
      family: 'ARKWRIGHT',
      given: 'MABEL',
      dob: '19910415',
      postcode: 'LS9 7AB',
      phone: '07700900555',
      nhs: '9990000018',
    };
    const one = birthTo(mother, { seed: 201, birthOrder: 1, controlId: 'FAM-TWIN-1' });
    const two = birthTo(mother, { seed: 201, birthOrder: 2, controlId: 'FAM-TWIN-2' });
    await send(one.text);
    await send(two.text);
    const a = await linkOf(one.babyNhs);
    const b = await linkOf(two.babyNhs);
    expect(b.family_id).toBe(a.family_id);
    expect(new Set([a.method, b.method])).toEqual(new Set(['new-family', 'nhs-number']));
    expect(await children(a.family_id)).toEqual([`nhs:${one.babyNhs}`, `nhs:${two.babyNhs}`].sort());

    const sibling = birthTo(mother, { seed: 202, controlId: 'FAM-SIB-1' });
    await send(sibling.text);
    const s = await linkOf(sibling.babyNhs);
    expect(s).toMatchObject({ family_id: a.family_id, method: 'nhs-number' });

    const noNhs = birthTo({ ...mother, nhs: undefined }, { seed: 203, controlId: 'FAM-SIB-2' });
    await send(noNhs.text);
    const p = await linkOf(noNhs.babyNhs);
    expect(p.family_id).toBe(a.family_id);
    expect(p.method).toBe('probabilistic');
    expect(p.score).toBeGreaterThanOrEqual(loadMatchModel().thresholds.match);
    expect(p.contributions?.map((c) => c.field).sort()).toEqual(['birthDate', 'familyName', 'givenName', 'phone', 'postcode']);
    expect(await children(a.family_id)).toHaveLength(4);

    // The audit says how, by field names, levels and weights only; the logs carry no personal data.
    const audit = await t.database.db.query<{ details: Record<string, unknown> }>(
      `SELECT e.details FROM audit_events e JOIN notifications n ON n.id = e.notification_id WHERE e.action = 'family-linked' AND n.baby_nhs_number = $1`,
      [pseudo(noNhs.babyNhs)],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]?.details).toMatchObject({ familyId: a.family_id, method: 'probabilistic' });
    const text = JSON.stringify(audit.rows[0]?.details);
    for (const v of ['ARKWRIGHT', 'MABEL', '1991', 'LS9', '0770']) expect(text).not.toContain(v);
    const logs = JSON.stringify(t.sink.records());
    for (const v of ['ARKWRIGHT', 'MABEL', '07700900555']) expect(logs).not.toContain(v);
  });

  test('a later message about the same baby that gives the mother’s NHS number makes it the family’s lead number', async () => {
    const mother: MotherFields = { family: 'FAIRWEATHER', given: 'NELL', dob: '19930909', postcode: 'LS9 7AB' };
    const first = birthTo(mother, { seed: 251, controlId: 'FAM-LATE-1' });
    await send(first.text);
    const link = await linkOf(first.babyNhs);
    const lead = async () =>
      (await t.database.db.query<{ n: string | null }>('SELECT lead_nhs_number AS n FROM families WHERE id = $1', [link.family_id])).rows[0]
        ?.n;
    expect(await lead()).toBeNull();
    const again = birthTo({ ...mother, nhs: '9990000069' }, { seed: 251, controlId: 'FAM-LATE-2' });
    expect(again.babyNhs).toBe(first.babyNhs);
    await send(again.text);
    expect(await pollUntil(async () => ((await lead()) === pseudo('9990000069') ? true : undefined), 'the lead NHS number learned')).toBe(
      true,
    );
    // The next baby of that mother, with her NHS number, joins deterministically.
    const next = birthTo({ ...mother, nhs: '9990000069' }, { seed: 252, controlId: 'FAM-LATE-3' });
    await send(next.text);
    expect(await linkOf(next.babyNhs)).toMatchObject({ family_id: link.family_id, method: 'nhs-number' });
  });

  test('a register import is joined by a later birth: without her NHS number by Fellegi–Sunter, with it deterministically', async () => {
    const res = await importJson([
      {
        familyRef: 'F-1',
        role: 'lead',
        nhsNumber: '9990000026',
        familyName: 'Quenby',
        givenNames: 'Rosalind',
        birthDate: '1988-02-29',
        postcode: 'ls9 7ab',
        phone: '07700900777',
      },
      { familyRef: 'F-1', role: 'child', nhsNumber: '9990000034', givenNames: 'Tom', birthDate: '2022-05-01', sex: 'male' },
    ]);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { imported: number; updated: number; rejected: unknown[] };
    expect(report).toMatchObject({ imported: 1, updated: 0, rejected: [] });
    const fam = await t.database.db.query<{ id: string; origin: string; centre: string; keys: string }>(
      `SELECT f.id, f.origin, f.centre, (SELECT count(*) FROM family_block_keys k WHERE k.family_id = f.id)::text AS keys
       FROM families f WHERE f.lead_nhs_number = $1`,
      [pseudo('9990000026')],
    );
    expect(fam.rows[0]).toMatchObject({ origin: 'register-import', centre: 'osmondthorpe' });
    expect(Number(fam.rows[0]?.keys)).toBeGreaterThan(0);
    const familyId = fam.rows[0]?.id ?? '';

    const mother: MotherFields = { family: 'QUENBY', given: 'ROSALIND', dob: '19880229', postcode: 'LS9 7AB', phone: '07700900777' };
    const fuzzy = birthTo(mother, { seed: 301, controlId: 'FAM-IMP-1' });
    await send(fuzzy.text);
    expect(await linkOf(fuzzy.babyNhs)).toMatchObject({ family_id: familyId, method: 'probabilistic' });

    const exact = birthTo({ ...mother, nhs: '9990000026' }, { seed: 302, controlId: 'FAM-IMP-2' });
    await send(exact.text);
    expect(await linkOf(exact.babyNhs)).toMatchObject({ family_id: familyId, method: 'nhs-number' });
    expect(await children(familyId)).toEqual(['nhs:9990000034', `nhs:${exact.babyNhs}`, `nhs:${fuzzy.babyNhs}`].sort());

    // The same register again: the family is updated, not duplicated; the child is kept once.
    const again = await importJson([
      { familyRef: 'X', role: 'lead', nhsNumber: '9990000026', familyName: 'Quenby', postcode: 'LS9 7AB' },
      { familyRef: 'X', role: 'child', nhsNumber: '9990000034', birthDate: '2022-05-01' },
    ]);
    expect(await again.json()).toMatchObject({ imported: 0, updated: 1, rejected: [] });
    expect(await children(familyId)).toHaveLength(3);
  });

  test('a match in the review band is held apart until an operator confirms it; a rejected one stays apart', async () => {
    const imported = await importJson([
      { familyRef: 'R-1', role: 'lead', familyName: 'Pemberton', givenNames: 'Jane', birthDate: '1990-03-12', postcode: 'LS9 7AB' },
      { familyRef: 'R-2', role: 'lead', familyName: 'Oddfellow', givenNames: 'Jane', birthDate: '1987-07-21', postcode: 'LS9 7AB' },
    ]);
    expect(await imported.json()).toMatchObject({ imported: 2, rejected: [] });
    // The lead is encrypted at rest (migration 029): SQL cannot look inside it, the test decrypts each family's.
    const all = await t.database.db.query<{ id: string; lead: unknown }>(`SELECT id, lead FROM families`);
    const ids = {
      rows: all.rows
        .map((r) => ({ id: r.id, family: (plainJson('families.lead', r.id, r.lead) as { name?: { family?: string } }).name?.family ?? '' }))
        .filter((r) => ['Pemberton', 'Oddfellow'].includes(r.family)),
    };
    const pemberton = ids.rows.find((r) => r.family === 'Pemberton')?.id ?? '';
    const oddfellow = ids.rows.find((r) => r.family === 'Oddfellow')?.id ?? '';

    // Moved house, no phone: the review band (the names and date of birth agree, the postcode does not).
    const held = birthTo(
      { family: 'PEMBERTON', given: 'JANE', dob: '19900312', postcode: 'WF1 2AB' },
      { seed: 401, controlId: 'FAM-REV-1' },
    );
    await send(held.text);
    const link = await linkOf(held.babyNhs);
    expect(link.family_id).not.toBe(pemberton);
    expect(link.method).toBe('new-family');
    expect(await children(pemberton)).toEqual([]);

    const listed = await documented('GET', '/v1/match-reviews', await api(t.http, ADMIN, '/v1/match-reviews?status=pending'));
    expect(listed.status).toBe(200);
    const items = ((await listed.json()) as { items: { id: string; candidateFamilyId: string; score: number; contributions: unknown[] }[] })
      .items;
    const review = items.find((r) => r.candidateFamilyId === pemberton);
    expect(review).toBeDefined();
    expect(review?.score).toBeGreaterThanOrEqual(loadMatchModel().thresholds.review);
    expect(review?.score).toBeLessThan(loadMatchModel().thresholds.match);
    expect(review?.contributions.length).toBeGreaterThan(0);
    expect(await t.hub.queues.reviewQueue.getJob(review?.id ?? '')).toBeDefined();

    // A centre may neither list nor decide; a bad decision is 400.
    expect((await documented('GET', '/v1/match-reviews', await api(t.http, CENTRE, '/v1/match-reviews'))).status).toBe(403);
    const decide = async (key: string, body: unknown) =>
      documented(
        'POST',
        '/v1/match-reviews/{id}',
        await api(t.http, key, `/v1/match-reviews/${review?.id ?? ''}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    expect((await decide(CENTRE, { decision: 'confirm' })).status).toBe(403);
    const bad = await decide(ADMIN, { decision: 'maybe' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ field: 'decision' }] });

    const confirmed = await decide(ADMIN, { decision: 'confirm', reason: 'same mother, new surname' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ status: 'confirmed', decidedBy: 'client:operator' });
    expect(await linkOf(held.babyNhs)).toMatchObject({ family_id: pemberton, method: 'review-confirmed' });
    expect(await children(pemberton)).toEqual([`nhs:${held.babyNhs}`]);
    const merged = await t.database.db.query<{ merged_into: string }>('SELECT merged_into FROM families WHERE id = $1', [link.family_id]);
    expect(merged.rows[0]?.merged_into).toBe(pemberton);
    expect(await t.hub.queues.reviewQueue.getJob(review?.id ?? '')).toBeUndefined();
    const twice = await decide(ADMIN, { decision: 'reject' });
    expect(twice.status).toBe(409);
    expect(twice.headers.get('content-type')).toContain('application/problem+json');

    // Rejected: kept apart, audited with who decided.
    const apart = birthTo(
      { family: 'ODDFELLOW', given: 'JANE', dob: '19870721', postcode: 'WF1 2AB' },
      { seed: 402, controlId: 'FAM-REV-2' },
    );
    await send(apart.text);
    const apartLink = await linkOf(apart.babyNhs);
    const second = await pollUntil(async () => {
      const r = await api(t.http, ADMIN, '/v1/match-reviews');
      return ((await r.json()) as { items: { id: string; candidateFamilyId: string }[] }).items.find(
        (x) => x.candidateFamilyId === oddfellow,
      );
    }, 'the second review');
    const rejected = await api(t.http, ADMIN, `/v1/match-reviews/${second.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'reject' }),
    });
    expect(await rejected.json()).toMatchObject({ status: 'rejected' });
    expect(await linkOf(apart.babyNhs)).toMatchObject({ family_id: apartLink.family_id, method: 'new-family' });
    expect(await children(oddfellow)).toEqual([]);
    const audit = await t.database.db.query<{ actor: string; outcome: string }>(
      `SELECT actor, outcome FROM audit_events WHERE action = 'match-reviewed' ORDER BY seq`,
    );
    expect(audit.rows).toEqual([
      { actor: 'client:operator', outcome: 'confirmed' },
      { actor: 'client:operator', outcome: 'rejected' },
    ]);
  });

  test('the import checks each row and reports bad ones by row and field, never by value; only admin may import', async () => {
    const csv = [
      'familyRef,role,nhsNumber,familyName,givenNames,birthDate,postcode,phone',
      'A,lead,9990000042,Lark,Ann,1990-01-01,LS9 7AB,07700900001',
      'A,child,9990000050,,Ben,2023-02-02,,',
      'B,lead,9990000043,Moss,Cora,1991-01-01,LS9 7AB,',
      'C,lead,,Nash,Dot,2999-01-01,NOT A PC,',
      'D,lead,,,Eve,1992-01-01,LS9 7AB,',
      'E,child,,,Fay,2020-01-01,,',
      'F,parent,,Ward,Gil,1993-01-01,LS9 7AB,',
    ].join('\n');
    const post = async (key: string, body: string, type = 'text/csv', centre = 'osmondthorpe') =>
      documented(
        'POST',
        '/v1/families/import',
        await api(t.http, key, `/v1/families/import?centre=${centre}`, { method: 'POST', headers: { 'content-type': type }, body }),
      );
    const res = await post(ADMIN, csv);
    expect(res.status).toBe(200);
    const text = await res.text();
    const report = JSON.parse(text) as { imported: number; rejected: { row: number; field: string; problem: string }[] };
    expect(report.imported).toBe(1);
    expect(report.rejected.map((r) => [r.row, r.field])).toEqual([
      [3, 'nhsNumber'],
      [4, 'birthDate'],
      [4, 'postcode'],
      [5, 'familyName'],
      [6, 'familyRef'],
      [7, 'role'],
    ]);
    for (const v of ['9990000043', 'Moss', '2999', 'NOT A PC', 'Fay', 'parent']) expect(text).not.toContain(v);

    expect((await post(CENTRE, csv)).status).toBe(403);
    expect((await post(FEED, csv)).status).toBe(403);
    const unknownCentre = await post(ADMIN, csv, 'text/csv', 'nowhere');
    expect(unknownCentre.status).toBe(400);
    expect(await unknownCentre.json()).toMatchObject({ errors: [{ field: 'centre' }] });
    expect((await post(ADMIN, csv, 'text/plain')).status).toBe(415);
    expect((await post(ADMIN, '{"not":"an array"}', 'application/json')).status).toBe(400);
    const huge = await post(ADMIN, `familyRef,role\n${'A,lead\n'.repeat(3_000_000)}`);
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toContain('application/problem+json');
  });
});
