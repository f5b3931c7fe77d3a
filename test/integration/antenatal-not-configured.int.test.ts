import { rmSync } from 'node:fs';
import path from 'node:path';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { bookingMessage, nhsNumberFrom } from '../support/synthetic/antenatal-booking.js';
import { copySampleConfig } from '../support/sample-config.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { sendAccepted } from '../support/consent-helpers.js';
import { asJson, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { fhirBookingBundle } from '../support/synthetic/fhir-booking.js';

const REASON = 'Maternity booking received but no antenatal agreement is configured (consent-rules/antenatal); replay it';

/**
 * A configuration without an antenatal agreement (no `consent-rules/antenatal/`): a booking is stored and
 * acknowledged, then quarantined for an operator with the reason, never shared; replaying it maps it again and keeps
 * the booking (not "no canonical record"), so once an agreement is configured a replay processes it.
 */
describe('Antenatal bookings without an antenatal agreement', () => {
  let t: TestHub;
  let client: MllpClient;
  const dir = copySampleConfig();
  rmSync(path.join(dir, 'consent-rules', 'antenatal'), { recursive: true });

  beforeAll(async () => {
    t = await startTestHub({ configDir: dir });
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const quarantined = (replays: number) =>
    pollUntil(async () => {
      const r = await t.database.db.query<{ id: string; status: string; reason: string | null; replay_count: number }>(
        `SELECT id, status, reason, replay_count FROM messages WHERE control_id = 'ANC-NOAGREEMENT'`,
      );
      const row = r.rows[0];
      return row?.status === 'quarantined' && row.replay_count === replays ? row : undefined;
    }, `the booking quarantined after ${replays} replays`);

  test('is quarantined with the reason, shared with no one, and a replay keeps the booking', async () => {
    const mother = { nhs: nhsNumberFrom(999_400_001), family: 'OSGOOD', given: 'MERRIN', dob: '19880808', postcode: 'LS9 7AB' };
    await sendAccepted(client, bookingMessage(mother, { controlId: 'ANC-NOAGREEMENT', dueDate: '20270101', consent: 'A' }));
    const first = await quarantined(0);
    expect(first.reason).toBe(REASON);
    const rows = await t.database.db.query('SELECT 1 FROM antenatal_notifications');
    expect(rows.rowCount).toBe(0);
    const replay = await api(t.http, 'demo-admin-key', `/v1/messages/${first.id}/replay`, { method: 'POST' });
    expect(replay.status).toBe(200);
    expect((await quarantined(1)).reason).toBe(REASON);
  });

  test('a FHIR R4 booking likewise: quarantined with the reason, and a replay maps it again and keeps the booking', async () => {
    const mother = { nhs: nhsNumberFrom(999_400_107), family: 'OSGOOD', given: 'TAMSIN', birthDate: '1989-09-09', postcode: 'LS9 7AB' };
    const res = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: asJson(fhirBookingBundle(mother, { bundleId: 'fhir-anc-noagreement', dueDate: '2027-01-01', consent: true })),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-stork-message-id') ?? '';
    const held = (replays: number) =>
      pollUntil(async () => {
        const r = await t.database.db.query<{ status: string; reason: string | null; replay_count: number }>(
          'SELECT status, reason, replay_count FROM messages WHERE id = $1',
          [id],
        );
        const row = r.rows[0];
        return row?.status === 'quarantined' && row.replay_count === replays ? row : undefined;
      }, `the FHIR booking quarantined after ${replays} replays`);
    expect((await held(0)).reason).toBe(REASON);
    const replay = await api(t.http, 'demo-admin-key', `/v1/messages/${id}/replay`, { method: 'POST' });
    expect(replay.status).toBe(200);
    expect((await held(1)).reason).toBe(REASON);
    expect((await t.database.db.query('SELECT 1 FROM antenatal_notifications')).rowCount).toBe(0);
  });
});
