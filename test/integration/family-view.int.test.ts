import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { pollUntil } from '../support/poll.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';

const OSMONDTHORPE = { id: 'osmondthorpe', key: 'demo-osmondthorpe-key', postcode: 'LS9 7AB' };
const HAREHILLS = { id: 'harehills', key: 'demo-harehills-key', postcode: 'LS8 2PF' };
const BELLE_ISLE = { id: 'belle-isle', key: 'demo-belle-isle-key' };
const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY', observations: false } as const;

interface Item {
  notificationId: string;
  status: string;
  familyId?: string;
  record?: { baby: { nhsNumber?: string } };
}
interface Family {
  familyId: string;
  dataset?: string;
  mother?: { name?: { given?: string[] } };
  familyAddress?: { postcode?: string };
  babies: { notificationId: string; status: string; baby?: { nhsNumber?: string } }[];
  siblings: { nhsNumber?: string; birthDate?: string; name?: unknown }[];
  namedWorker?: { name: string; assignedAt: string };
  shownNotificationIds?: unknown;
}
interface AuditItem {
  action: string;
  actor: string;
  notificationId?: string;
  recipient?: string;
  outcome?: string;
  details?: { familyId?: string; view?: string; namedWorker?: string };
}

/**
 * The whole family a centre sees (issue 12 item 6), on the real hub: two babies of one mother, the first born three
 * weeks ago at her old address in Harehills' catchment, the second today at her new address in Osmondthorpe's. Each
 * centre's inbox item carries the one family id; each centre sees the family only through what its own notification
 * disclosed, the older sibling but never a baby born since, and only its own named worker. Other centres get 404.
 */
describe('A centre sees a whole family, within its own dataset', () => {
  let t: TestHub;
  let client: MllpClient;
  /** The family and Osmondthorpe's notification, from the first test (the others need its births). */
  let shared = { familyId: '', notificationId: '' };
  beforeAll(async () => {
    t = await startTestHub();
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
  });

  const inboxItem = (centre: { id: string; key: string }, nhsNumber: string) =>
    pollUntil(async () => {
      const res = await api(t.http, centre.key, `/v1/centres/${centre.id}/notifications?limit=500`);
      const items = ((await res.json()) as { items: Item[] }).items;
      return items.find((i) => i.record?.baby.nhsNumber === nhsNumber && i.familyId !== undefined);
    }, `the notification in ${centre.id}'s inbox with its family`);
  const family = async (centre: { id: string; key: string }, familyId: string, key = centre.key) =>
    api(t.http, key, `/v1/centres/${centre.id}/families/${familyId}`);
  const putWorker = (centre: { id: string; key: string }, familyId: string, body: string, type = 'application/json') =>
    api(t.http, centre.key, `/v1/centres/${centre.id}/families/${familyId}/named-worker`, {
      method: 'PUT',
      headers: { 'content-type': type },
      body,
    });

  test('two babies of one mother in two catchments: one family, each centre its own view', async () => {
    const now = new Date();
    const older = describeNewborn({
      ...RX1,
      seed: 7301,
      postcodes: [HAREHILLS.postcode],
      messageTime: now,
      ageMinutes: 21 * 24 * 60,
      controlId: 'FAM-OLDER',
    });
    const newerRaw = describeNewborn({
      ...RX1,
      seed: 7302,
      postcodes: [OSMONDTHORPE.postcode],
      messageTime: now,
      ageMinutes: 120,
      controlId: 'FAM-NEWER',
    });
    const mother = older.mother?.nhsNumber ?? '';
    // The same mother (her NHS number), moved house between the two births.
    const newer = { ...newerRaw, text: newerRaw.text.replaceAll(newerRaw.mother?.nhsNumber ?? '-', mother) };
    for (const m of [older, newer]) expect((await client.send(m.text)).split('\r')[1]?.split('|')[1]).toBe('CA');

    const atHarehills = await inboxItem(HAREHILLS, older.baby.nhsNumber);
    const atOsmondthorpe = await inboxItem(OSMONDTHORPE, newer.baby.nhsNumber);
    const familyId = atOsmondthorpe.familyId ?? '';
    expect(atHarehills.familyId).toBe(familyId);
    shared = { familyId, notificationId: atOsmondthorpe.notificationId };

    // Osmondthorpe: the new baby, the mother at her new address, the older sibling.
    const res = await family(OSMONDTHORPE, familyId);
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Family;
    expect(seen.familyId).toBe(familyId);
    expect(seen.dataset).toBe('offer-of-support');
    expect(seen.shownNotificationIds).toBeUndefined();
    expect(seen.babies.map((b) => [b.notificationId, b.status, b.baby?.nhsNumber])).toEqual([
      [atOsmondthorpe.notificationId, 'new', newer.baby.nhsNumber],
    ]);
    expect(seen.familyAddress?.postcode).toBe(OSMONDTHORPE.postcode);
    expect(seen.siblings).toEqual([expect.objectContaining({ nhsNumber: older.baby.nhsNumber, birthDate: older.baby.birthDate })]);

    // Harehills, which the family has left: its own baby and the old address; never the baby born since.
    const old = (await (await family(HAREHILLS, familyId)).json()) as Family;
    expect(old.babies.map((b) => b.notificationId)).toEqual([atHarehills.notificationId]);
    expect(old.familyAddress?.postcode).toBe(HAREHILLS.postcode);
    expect(old.siblings).toEqual([]);
    expect(JSON.stringify(old)).not.toContain(newer.baby.nhsNumber);

    // Every view is audited as a read of each notification it showed, by the centre's client.
    const audit = (await (await api(t.http, 'demo-ig-key', `/v1/audit?notification=${atHarehills.notificationId}&limit=500`)).json()) as {
      items: AuditItem[];
    };
    const familyReads = audit.items.filter((e) => e.action === 'read' && e.details?.view === 'family');
    expect(familyReads.map((e) => [e.actor, e.recipient])).toEqual(
      expect.arrayContaining([
        ['client:osmondthorpe', 'osmondthorpe'],
        ['client:harehills', 'harehills'],
      ]),
    );
    expect(familyReads.every((e) => e.details?.familyId === familyId)).toBe(true);
  });

  test('another centre cannot see the family or name its worker, by any door', async () => {
    const { familyId } = shared;
    // Belle Isle has nothing about this family: the same 404 as an id that does not exist.
    expect((await family(BELLE_ISLE, familyId)).status).toBe(404);
    expect((await family(BELLE_ISLE, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await putWorker(BELLE_ISLE, familyId, JSON.stringify({ name: 'Intruder' }))).status).toBe(404);
    // Belle Isle's key on Osmondthorpe's path: 404, as a family that does not exist.
    expect((await family(OSMONDTHORPE, familyId, BELLE_ISLE.key)).status).toBe(404);
    // Not a centre at all: a feed key, no key.
    expect((await family(OSMONDTHORPE, familyId, 'demo-northgate-feed-key')).status).toBe(403);
    expect((await api(t.http, undefined, `/v1/centres/${OSMONDTHORPE.id}/families/${familyId}`)).status).toBe(401);
    // A malformed id never reaches the store.
    expect((await family(OSMONDTHORPE, 'not-a-uuid')).status).toBe(404);
  });

  test('the named worker: assigned, shown only to the centre that named them, cleared; bad input refused naming the field', async () => {
    const { familyId, notificationId } = shared;

    const bad = await putWorker(OSMONDTHORPE, familyId, JSON.stringify({ name: '  ' }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['name']);
    expect((await putWorker(OSMONDTHORPE, familyId, JSON.stringify({ name: 'Line\nbreak' }))).status).toBe(400);
    expect((await putWorker(OSMONDTHORPE, familyId, JSON.stringify({ name: 'x'.repeat(101) }))).status).toBe(400);
    expect((await putWorker(OSMONDTHORPE, familyId, '{"name":')).status).toBe(400);
    expect((await putWorker(OSMONDTHORPE, familyId, 'name=Sam', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await putWorker(OSMONDTHORPE, familyId, JSON.stringify({ name: 'x'.repeat(10_000) }))).status).toBe(413);

    const ok = await putWorker(OSMONDTHORPE, familyId, JSON.stringify({ name: 'Sam Carter' }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ familyId, namedWorker: 'Sam Carter' });
    const seen = (await (await family(OSMONDTHORPE, familyId)).json()) as Family;
    expect(seen.namedWorker?.name).toBe('Sam Carter');
    // Harehills also has a notification about this family, but Osmondthorpe's worker is not Harehills' business.
    expect(((await (await family(HAREHILLS, familyId)).json()) as Family).namedWorker).toBeUndefined();

    const cleared = await api(t.http, OSMONDTHORPE.key, `/v1/centres/${OSMONDTHORPE.id}/families/${familyId}/named-worker`, {
      method: 'DELETE',
    });
    expect(await cleared.json()).toEqual({ familyId, namedWorker: null });
    expect(((await (await family(OSMONDTHORPE, familyId)).json()) as Family).namedWorker).toBeUndefined();

    const audit = (await (await api(t.http, 'demo-ig-key', `/v1/audit?notification=${notificationId}&limit=500`)).json()) as {
      items: AuditItem[];
    };
    expect(audit.items.filter((e) => e.action === 'named-worker').map((e) => [e.actor, e.outcome, e.details?.namedWorker])).toEqual([
      ['client:osmondthorpe', 'assigned', 'Sam Carter'],
      ['client:osmondthorpe', 'cleared', undefined],
    ]);
  });
});
