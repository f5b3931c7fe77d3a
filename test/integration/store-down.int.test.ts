import pg from 'pg';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { newbornAdt } from '../support/synthetic/newborn-adt.js';
import { ADMIN_URL } from '../support/test-database.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { localDateOf } from '../../src/domain/hl7-datetime.js';
import { asJson, fhirBirthBundle, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';

const msa = (ack: string) => ack.split('\r')[1]?.split('|') ?? [];
const adt = (seed: number, controlId: string) =>
  newbornAdt({ seed, controlId, sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: new Date() }).replace(
    '|AL|NE|',
    '|||',
  );

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  await c.query(sql);
  await c.end();
}

describe('No AA while the store is down: the sender is told to retry, and nothing is half-accepted', () => {
  let t: TestHub;
  let client: MllpClient;
  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 15000 });
  });
  afterAll(async () => {
    await client.destroy();
    await t.stop().catch(() => undefined);
  });

  test('store unavailable → AE over MLLP and 503 over HTTP; after recovery the re-send is accepted', async () => {
    expect(msa(await client.send(adt(1, 'DOWN-0')))[1]).toBe('AA');
    if (t.database.kind === 'postgres') {
      const name = t.database.name ?? '';
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    } else {
      await t.database.db.close();
    }
    const down = msa(await client.send(adt(2, 'DOWN-1')));
    expect(down[1]).toBe('AE');
    expect(down[2]).toBe('DOWN-1');
    const http = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', {
      method: 'POST',
      headers: { 'content-type': 'x-application/hl7-v2+er7' },
      body: adt(3, 'DOWN-2'),
    });
    expect(http.status).toBe(503);
    expect(msa(await http.text())[1]).toBe('AE');
    // FHIR intake, on the same receipt path: 503 with a transient OperationOutcome, never a response message.
    const fhir = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: asJson(
        fhirBirthBundle({
          bundleId: 'down-fhir',
          timestamp: new Date().toISOString(),
          birthDate: localDateOf(new Date()),
          babyNhsNumber: '9990001561',
        }),
      ),
    });
    expect(fhir.status).toBe(503);
    expect(fhir.headers.get('retry-after')).toBe('5');
    expect(await fhir.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'transient' }] });
    expect((await fetch(`${t.http}/readyz`)).status).toBe(503);
    if (t.database.kind !== 'postgres') return; // PGlite in memory cannot be reopened in place; the refusal above is the point
    await admin(`ALTER DATABASE ${t.database.name ?? ''} ALLOW_CONNECTIONS true`);
    expect(msa(await client.send(adt(2, 'DOWN-1')))[1]).toBe('AA');
    const rows = await t.database.db.query<{ control_id: string }>(`SELECT control_id FROM messages ORDER BY control_id`);
    expect(rows.rows.map((r) => r.control_id)).toEqual(['DOWN-0', 'DOWN-1']);
  });
});
