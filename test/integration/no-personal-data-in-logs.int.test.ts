import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn, type NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { asJson, asXml, fhirBirthBundle, NORTHGATE_FHIR_KEY, type FhirBirthOptions } from '../support/synthetic/fhir-birth.js';
import { pseudo } from '../support/data-keys.js';

/**
 * Runs births of every kind through MLLP and HTTP with logging at debug level, then proves that no line
 * carries a name, NHS number, date of birth, address, postcode or phone number from those messages.
 */
describe('Logs carry no personal data', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => t.stop());

  test('every log line is free of the personal data in the messages sent', async () => {
    const base = {
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
      postcodes: ['LS9 7AB', 'LS8 3DR', 'LS17 7DF'],
    };
    const cases: NewbornAdtOptions[] = [
      { seed: 11 },
      { seed: 12, birthOrder: 1 },
      { seed: 12, birthOrder: 2 },
      { seed: 13, deceased: true },
      { seed: 14, restricted: true },
      { seed: 15, invalidNhsNumber: true },
      { seed: 16, escapes: true },
      { seed: 17, lineEnding: '\n' },
      { seed: 18, adult: true, event: 'A08' },
      { seed: 19, sendingFacility: 'ZZZ' },
      { seed: 20, motherVia: 'pid21' },
      // The first baby's death, reported by an update: its notification is withdrawn.
      { seed: 11, event: 'A08', deceased: true },
    ];
    const babies = cases.map((c, i) => describeNewborn({ ...base, ...c, controlId: `LOG-${i}` }));
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    for (const b of babies.slice(0, 8)) await client.send(b.text);
    await client.close();
    for (const b of babies.slice(8))
      await api(t.http, 'demo-admin-key', '/v1/hl7v2', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: b.text });
    await api(t.http, 'demo-admin-key', '/v1/messages?status=quarantined');
    await pollUntil(async () => {
      const r = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM messages WHERE status = 'queued'`);
      return Number(r.rows[0]?.n) === 0 ? true : undefined;
    }, 'all births processed');
    await pollUntil(async () => {
      const r = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM notifications WHERE status = 'routed'`);
      return Number(r.rows[0]?.n) === 0 ? true : undefined;
    }, 'all deliveries made');

    // Each line without its own timestamp (a baby born today shares its date with the log's clock).
    const log = t.sink
      .records()
      .map(({ time, ...rest }) => JSON.stringify(rest))
      .join('\n');
    expect(t.sink.lines.length).toBeGreaterThan(20);
    expect(log).toContain('message received');
    expect(log).toContain('notifications delivered');
    const withdrawn = await t.database.db.query<{ status: string }>(`SELECT status FROM notifications WHERE baby_nhs_number = $1`, [
      pseudo(babies[0]?.baby.nhsNumber ?? ''),
    ]);
    expect(withdrawn.rows).toEqual([{ status: 'withdrawn' }]);
    const forbidden = new Set<string>();
    for (const b of babies) {
      const { baby, mother } = b;
      for (const v of [
        baby.nhsNumber,
        baby.mrn,
        baby.family,
        baby.given,
        baby.birthDate,
        baby.birthDateTimeText,
        baby.postcode,
        ...baby.addressLines,
      ])
        if (v.length >= 4) forbidden.add(v);
      if (mother) for (const v of [mother.nhsNumber, mother.family, mother.given, mother.birthDate]) forbidden.add(v);
      // Phone numbers: any run of 10 or more digits that is not an id Stork made.
      for (const phone of b.text.match(/\b0\d{9,10}\b/g) ?? []) forbidden.add(phone);
    }
    const leaks = [...forbidden].filter((v) => log.includes(v));
    expect(leaks).toEqual([]);
    // Nor any raw segment text.
    expect(log).not.toMatch(/PID\||NK1\||MSH\|/);
  });

  test('FHIR intake logs no personal data either (JSON, XML, refused, restricted, deceased, forged)', async () => {
    const born = localDateOf(new Date(Date.now() - 3 * 86_400_000));
    const base = { timestamp: new Date().toISOString(), birthDate: born, motherNhsNumber: '9990009503', weightGrams: 3100 };
    const cases: [FhirBirthOptions, string, 'json' | 'xml'][] = [
      [{ ...base, bundleId: 'log-f1', babyNhsNumber: '9990002010' }, NORTHGATE_FHIR_KEY, 'json'],
      [{ ...base, bundleId: 'log-f2', babyNhsNumber: '9990002029', confidentiality: 'R' }, NORTHGATE_FHIR_KEY, 'xml'],
      [{ ...base, bundleId: 'log-f3', babyNhsNumber: '9990002010', deceased: true }, NORTHGATE_FHIR_KEY, 'json'],
      [{ ...base, bundleId: 'log-f4', babyNhsNumber: '9990001562' }, NORTHGATE_FHIR_KEY, 'json'],
      [{ ...base, bundleId: 'log-f5', babyNhsNumber: '9990001588' }, 'demo-northvale-feed-key', 'xml'],
      [{ ...base, bundleId: 'log-f6', babyNhsNumber: '9990001596', postcode: 'NOT A POSTCODE' }, NORTHGATE_FHIR_KEY, 'json'],
    ];
    const before = t.sink.lines.length;
    for (const [o, key, encoding] of cases) {
      const b = fhirBirthBundle(o);
      const res = await api(t.http, key, '/v1/fhir/$process-message', {
        method: 'POST',
        headers: { 'content-type': `application/fhir+${encoding}` },
        body: encoding === 'xml' ? asXml(b) : asJson(b),
      });
      expect(res.status).toBeLessThan(500);
    }
    await pollUntil(async () => {
      const r = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM messages WHERE status = 'queued'`);
      return Number(r.rows[0]?.n) === 0 ? true : undefined;
    }, 'all FHIR births processed');
    const log = t.sink
      .records()
      .slice(before)
      .map(({ time: _time, ...rest }) => JSON.stringify(rest))
      .join('\n');
    expect(log).toContain('FHIR message received');
    const forbidden = [
      '9990002010',
      '9990002029',
      '9990009503',
      '9990001562',
      '9990001588',
      '9990001596',
      'OKONKWO',
      'AMARA',
      'GRACE',
      born,
      '1993-04-17',
      'LS9 7AB',
      'NOT A POSTCODE',
      'Wykebeck',
      '07700900123',
      'MRNLOG',
    ];
    expect(forbidden.filter((v) => log.includes(v))).toEqual([]);
  });
});
