import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { addDays, londonDateOf, type ReachFigures } from '../../src/domain/offer-outcome.js';
import { londonMidnight } from '../../src/pipeline/reports/london-days.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

const OSM = { id: 'osmondthorpe', key: 'demo-osmondthorpe-key' };
const HAREHILLS = { id: 'harehills', key: 'demo-harehills-key' };
const IG = 'demo-ig-key';
const ADMIN = 'demo-admin-key';
const JSON_TYPE = { 'content-type': 'application/json' };

interface Item {
  notificationId: string;
  record?: { baby: { nhsNumber?: string } };
}
interface Problem {
  errors?: { field: string; message: string }[];
}
interface Outcome {
  id: string;
  outcome: string;
  date: string;
  worker: string;
  corrects?: string;
  correctedBy?: string;
}
/** A centre's reach as the API answers it: the domain's figures, with the centre. */
type Reach = ReachFigures & { centreId: string };

/**
 * The offer-of-support loop on the real hub (issue 15 item 3): six births reach Osmondthorpe; their delivery is then
 * moved to a known day D sixty days ago (one withdrawn), outcomes are recorded through the API, and the reach report
 * for D's days gives the figures worked out by hand, the 14-day boundary included. Cross-centre ids are 404, bad
 * input 400 naming the field, and every outcome is audited with the worker's name.
 */
describe('The offer-of-support loop and the reach report', () => {
  let t: TestHub;
  let ids: string[] = [];
  const today = londonDateOf(new Date());
  const D = addDays(today, -60);

  beforeAll(async () => {
    t = await startTestHub();
    const client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
    const babies = [1, 2, 3, 4, 5, 6].map((i) =>
      describeNewborn({
        seed: 9100 + i,
        sendingFacility: 'RX1',
        sendingApplication: 'MATERNITY',
        controlId: `LOOP-${i}`,
        messageTime: new Date(),
        postcodes: ['LS9 7AB'],
        observations: false,
      }),
    );
    for (const b of babies) await client.send(b.text);
    await client.close();
    ids = await pollUntil(async () => {
      const res = await api(t.http, OSM.key, `/v1/centres/${OSM.id}/notifications?limit=500`);
      const items = ((await res.json()) as { items: Item[] }).items;
      const found = babies.map((b) => items.find((i) => i.record?.baby.nhsNumber === b.baby.nhsNumber)?.notificationId);
      return found.every((x) => x !== undefined) ? found : undefined;
    }, 'the six notifications in the inbox');
    // Delivered on day D at 10:00 London (the fifth, E, on D + 1); the sixth, F, is withdrawn since.
    const at = (day: string) => new Date(londonMidnight(day).getTime() + 10 * 3_600_000);
    for (const [i, id] of ids.entries())
      await t.database.db.query('UPDATE inbox_items SET delivered_at = $3 WHERE inbox_id = $1 AND notification_id = $2', [
        OSM.id,
        id,
        at(i === 4 ? addDays(D, 1) : D),
      ]);
    await t.database.db.query(
      `UPDATE inbox_items SET status = 'withdrawn', withdrawn_at = $3 WHERE inbox_id = $1 AND notification_id = $2`,
      [OSM.id, ids[5], at(D)],
    );
  });
  afterAll(async () => t.stop());

  const post = (id: string, body: unknown, centre = OSM, path = centre.id) =>
    api(t.http, centre.key, `/v1/centres/${path}/notifications/${id}/outcomes`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const record = async (id: string, outcome: string, day: number, extra: Record<string, string> = {}): Promise<Outcome> => {
    const res = await post(id, { outcome, date: addDays(D, day), worker: 'Wendy Worker', ...extra });
    expect(res.status).toBe(201);
    return (await res.json()) as Outcome;
  };
  const fields = async (res: Response): Promise<string[]> => ((await res.json()) as Problem).errors?.map((e) => e.field) ?? [];

  test('outcomes are recorded, corrected by a new record, and the reach figures match the hand count', async () => {
    const [a = '', b = '', c = '', d = ''] = ids;
    await record(a, 'contacted', 14); // on the last day within target: within
    await record(b, 'contacted', 15); // a day late
    await record(c, 'no-response', 3);
    const wrong = await record(c, 'contacted', 5);
    const fix = await record(c, 'no-response', 5, { corrects: wrong.id }); // it was not contact after all
    expect(fix.corrects).toBe(wrong.id);
    await record(c, 'offer-accepted', 20); // late
    await record(d, 'moved-away', 2); // nothing more to do: not overdue
    // E: nothing recorded, so overdue; F: withdrawn, not counted.

    const history = await api(t.http, OSM.key, `/v1/centres/${OSM.id}/notifications/${c}/outcomes`);
    expect(history.status).toBe(200);
    const h = (await history.json()) as { contactDueBy: string; overdue: boolean; targetDays: number; outcomes: Outcome[] };
    expect([h.targetDays, h.contactDueBy, h.overdue]).toEqual([14, addDays(D, 14), false]);
    expect(h.outcomes.map((o) => [o.outcome, o.date, o.correctedBy !== undefined])).toEqual([
      ['no-response', addDays(D, 3), false],
      ['contacted', addDays(D, 5), true],
      ['no-response', addDays(D, 5), false],
      ['offer-accepted', addDays(D, 20), false],
    ]);
    const e = (await (await api(t.http, OSM.key, `/v1/centres/${OSM.id}/notifications/${ids[4]}/outcomes`)).json()) as { overdue: boolean };
    expect(e.overdue).toBe(true);

    const query = `?from=${addDays(D, -1)}&to=${addDays(D, 1)}`;
    const own = await api(t.http, OSM.key, `/v1/centres/${OSM.id}/reach${query}`);
    expect(own.status).toBe(200);
    const [reach] = ((await own.json()) as { centres: Reach[] }).centres;
    expect(reach).toEqual(
      expect.objectContaining({
        centreId: OSM.id,
        targetDays: 14,
        notified: 5,
        withdrawn: 1,
        contactedWithinTarget: 1,
        contactedWithinTargetPercent: 20,
        contactedLate: 2,
        notYetDue: 0,
        overdue: 1,
        outcomes: { contacted: 2, 'offer-accepted': 1, 'offer-declined': 0, 'no-response': 0, 'moved-away': 1, none: 1 },
      }),
    );
    // A day outside the range counts nothing; the IG lead sees every centre, Harehills with its own target of 10 days.
    const before = (await (await api(t.http, IG, `/v1/centres/${OSM.id}/reach?from=${addDays(D, -3)}&to=${addDays(D, -1)}`)).json()) as {
      centres: Reach[];
    };
    expect(before.centres[0]?.notified).toBe(0);
    const all = (await (await api(t.http, ADMIN, `/v1/reports/reach${query}`)).json()) as { centres: Reach[] };
    expect(all.centres.find((x) => x.centreId === OSM.id)?.contactedWithinTarget).toBe(1);
    expect(all.centres.find((x) => x.centreId === HAREHILLS.id)).toEqual(expect.objectContaining({ targetDays: 10, notified: 0 }));
    const csv = await api(t.http, IG, `/v1/reports/reach${query}&format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\r\n').find((l) => l.startsWith('osmondthorpe,'))).toContain(',14,5,1,20,2,0,1,1,');

    // Every outcome is audited: the centre's client as actor, the worker's name in the details.
    const audit = (await (await api(t.http, IG, `/v1/audit?notification=${c}&limit=500`)).json()) as {
      items: { action: string; actor: string; outcome?: string; recipient?: string; details?: { worker?: string; corrects?: string } }[];
    };
    const recorded = audit.items.filter((x) => x.action === 'offer-outcome-recorded');
    expect(recorded.map((x) => [x.actor, x.recipient, x.outcome, x.details?.worker])).toEqual([
      ['client:osmondthorpe', OSM.id, 'no-response', 'Wendy Worker'],
      ['client:osmondthorpe', OSM.id, 'contacted', 'Wendy Worker'],
      ['client:osmondthorpe', OSM.id, 'no-response', 'Wendy Worker'],
      ['client:osmondthorpe', OSM.id, 'offer-accepted', 'Wendy Worker'],
    ]);
    expect(recorded[2]?.details?.corrects).toBe(wrong.id);
  });

  test('another centre: its id in the path, or this centre’s notification under its own path, is 404 as if it did not exist', async () => {
    const [a = ''] = ids;
    const good = { outcome: 'contacted', date: today, worker: 'Harry' };
    expect((await post(a, good, HAREHILLS)).status).toBe(404);
    expect((await api(t.http, HAREHILLS.key, `/v1/centres/${HAREHILLS.id}/notifications/${a}/outcomes`)).status).toBe(404);
    expect((await post(a, good, HAREHILLS, OSM.id)).status).toBe(404);
    expect((await post('not-a-uuid', good)).status).toBe(404);
    expect((await post('00000000-0000-4000-8000-000000000000', good)).status).toBe(404);
    expect((await api(t.http, HAREHILLS.key, `/v1/centres/${OSM.id}/reach`)).status).toBe(404);
    expect((await api(t.http, OSM.key, `/v1/reports/reach`)).status).toBe(403);
    expect((await api(t.http, IG, `/v1/centres/no-such-centre/reach`)).status).toBe(404);
    expect((await api(t.http, IG, `/v1/centres/${OSM.id}/notifications/${a}/outcomes`)).status).toBe(403);
  });

  test('bad input is 400 naming the field; a withdrawn notification is 409', async () => {
    const [a = '', , c = ''] = ids;
    const ok = { outcome: 'contacted', date: today, worker: 'Wendy Worker' };
    expect(await fields(await post(a, { ...ok, outcome: 'visited' }))).toEqual(['outcome']);
    expect(await fields(await post(a, { ...ok, date: addDays(today, 1) }))).toEqual(['date']);
    expect(await fields(await post(a, { ...ok, date: '2026-02-30' }))).toEqual(['date']);
    expect(await fields(await post(a, { ...ok, date: addDays(D, -1) }))).toEqual(['date']); // before it arrived
    expect(await fields(await post(a, { ...ok, worker: '  ' }))).toEqual(['worker']);
    expect(await fields(await post(a, { ...ok, worker: 'x'.repeat(101) }))).toEqual(['worker']);
    expect(await fields(await post(a, { ...ok, worker: 'Line\nbreak' }))).toEqual(['worker']);
    expect(await fields(await post(a, { ...ok, note: 'extra' }))).toEqual(['note']);
    expect(await fields(await post(a, { ...ok, corrects: 'nope' }))).toEqual(['corrects']);
    expect(await fields(await post(a, [ok]))).toEqual(['(body)']);
    expect(await fields(await post(a, '{"outcome":'))).toEqual(['(body)']);
    expect((await post(a, JSON.stringify({ ...ok, worker: 'x'.repeat(5000) }))).status).toBe(413);
    const text = await api(t.http, OSM.key, `/v1/centres/${OSM.id}/notifications/${a}/outcomes`, { method: 'POST', body: 'contacted' });
    expect(text.status).toBe(415);
    // Correcting another notification's record, or one already corrected.
    const h = (await (await api(t.http, OSM.key, `/v1/centres/${OSM.id}/notifications/${c}/outcomes`)).json()) as { outcomes: Outcome[] };
    const corrected = h.outcomes.find((o) => o.correctedBy !== undefined)?.id ?? '';
    expect(await fields(await post(c, { ...ok, corrects: corrected }))).toEqual(['corrects']);
    expect(await fields(await post(a, { ...ok, corrects: h.outcomes[0]?.id }))).toEqual(['corrects']);
    expect((await post(ids[5] ?? '', ok)).status).toBe(409);
    // The report's period.
    const reach = (q: string) => api(t.http, IG, `/v1/reports/reach?${q}`);
    expect(await fields(await reach('month=2026-13'))).toEqual(['month']);
    expect(await fields(await reach(`month=2026-01&from=${D}`))).toEqual(['month']);
    expect(await fields(await reach('from=2026-03-01&to=2026-02-01'))).toEqual(['from']);
    expect(await fields(await reach('format=xml'))).toEqual(['format']);
    expect((await reach('month=2026-02')).status).toBe(200);
  });
});
