import { demoCipher, pseudo } from '../support/data-keys.js';
import { createHash, randomBytes } from 'node:crypto';
import { SqlWebSessionStore } from '../../adapters/store/sql-web-session-store.js';
import { SqlAuditLog } from '../../adapters/store/sql-audit-log.js';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import { SqlNotificationStore } from '../../adapters/store/sql-notification-store.js';
import type { WebRole } from '../../src/ports/web-sessions.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

const HL7 = { 'content-type': 'x-application/hl7-v2+er7' };

/**
 * The IG lead's pages and the operators' console over plain HTTP (the browser tests drive them in Chromium):
 * every role against every address, checked on the server; and the store queries they are built on.
 * Sessions are put in the store directly (what a sign-in leaves there), so no identity provider is needed.
 */
describe('Web app: IG and operator pages, role checks and queries', () => {
  let t: TestHub;
  const cookies = new Map<WebRole, { cookie: string; csrf: string }>();
  let notificationId = '';
  let messageId = '';
  let quarantinedId = '';
  const baby = describeNewborn({
    seed: 1301,
    controlId: 'WEB-1',
    sendingFacility: 'RX1',
    sendingApplication: 'MATERNITY',
    messageTime: new Date(),
    postcodes: ['LS9 7AB'],
  });

  beforeAll(async () => {
    t = await startTestHub();
    const sessions = new SqlWebSessionStore(t.hub.db);
    const now = new Date();
    const later = new Date(now.getTime() + 3_600_000);
    for (const role of ['centre-worker', 'ig-lead', 'operator', 'admin'] as const) {
      const id = randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      await sessions.create(
        createHash('sha256').update(id).digest('hex'),
        {
          person: { sub: `sub-${role}`, name: `Test ${role}`, role, ...(role === 'centre-worker' ? { scope: 'osmondthorpe' } : {}) },
          csrfToken: csrf,
          lastSeenAt: now,
          expiresAt: later,
          absoluteExpiresAt: later,
        },
        now,
      );
      cookies.set(role, { cookie: `stork_session=${id}`, csrf });
    }
    const sent = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', { method: 'POST', headers: HL7, body: baby.text });
    expect(sent.status).toBe(200);
    messageId = sent.headers.get('x-stork-message-id') ?? '';
    notificationId = await pollUntil(async () => {
      const r = await t.hub.db.query<{ id: string }>(
        `SELECT n.id FROM inbox_items i JOIN notifications n ON n.id = i.notification_id WHERE n.baby_nhs_number = $1`,
        [pseudo(baby.baby.nhsNumber)],
      );
      return r.rows[0]?.id;
    }, 'the newborn delivered');
    await new SqlNotificationStore(t.hub.db, demoCipher).getInboxItem(
      'osmondthorpe',
      notificationId,
      { actor: 'user:w1', name: 'Wendy Worker' },
      new Date(),
    );
    const other = describeNewborn({
      seed: 1302,
      controlId: 'WEB-2',
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
    });
    const refused = await api(t.http, 'demo-northgate-feed-key', '/v1/hl7v2', {
      method: 'POST',
      headers: HL7,
      body: other.text.replace('|RX1|', '|RX9|'),
    });
    expect(refused.status).toBe(403);
    quarantinedId = refused.headers.get('x-stork-message-id') ?? '';
  });
  afterAll(async () => t.stop());

  const get = (role: WebRole | undefined, path: string): Promise<Response> =>
    fetch(`${t.http}${path}`, { redirect: 'manual', headers: role ? { cookie: cookies.get(role)?.cookie ?? '' } : {} });
  const post = (role: WebRole, path: string, form: Record<string, string> = {}): Promise<Response> =>
    fetch(`${t.http}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookies.get(role)?.cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: cookies.get(role)?.csrf ?? '', ...form }).toString(),
    });

  test('each role gets only its own pages; only an admin gets the raw message; signed out is sent to sign in', async () => {
    const pages: [string, Partial<Record<WebRole, number>>][] = [
      ['/app/audit', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      [`/app/audit?search=1&nhsNumber=${baby.baby.nhsNumber}`, { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      [`/app/audit/notifications/${notificationId}`, { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      [`/app/audit/notifications/${notificationId}/decision`, { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/agreements/what-if', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/agreements', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/agreements/antenatal/antenatal-with-consent', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/agreements/birth/antenatal-with-consent', { 'centre-worker': 403, 'ig-lead': 404, operator: 403, admin: 403 }],
      ['/app/disclosures', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/reports/feeds', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/reports/centres', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/reports/rules', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/consents', { 'centre-worker': 403, 'ig-lead': 200, operator: 403, admin: 403 }],
      ['/app/reach', { 'centre-worker': 200, 'ig-lead': 200, operator: 200, admin: 403 }],
      ['/app/reach.csv?month=2026-01', { 'centre-worker': 200, 'ig-lead': 200, operator: 200, admin: 403 }],
      ['/app/consents/records/00000000-0000-4000-8000-000000000000', { 'centre-worker': 403, 'ig-lead': 404, operator: 403, admin: 403 }],
      [
        '/app/households/00000000-0000-4000-8000-000000000000/consents',
        { 'centre-worker': 404, 'ig-lead': 403, operator: 403, admin: 403 },
      ],
      ['/app/operations', { 'centre-worker': 403, 'ig-lead': 403, operator: 200, admin: 200 }],
      ['/app/operations/quarantine', { 'centre-worker': 403, 'ig-lead': 403, operator: 200, admin: 200 }],
      [`/app/operations/messages/${quarantinedId}`, { 'centre-worker': 403, 'ig-lead': 403, operator: 200, admin: 200 }],
      [`/app/operations/messages/${quarantinedId}/raw`, { 'centre-worker': 403, 'ig-lead': 403, operator: 403, admin: 200 }],
    ];
    for (const [path, expected] of pages) {
      const got: Record<string, number> = {};
      for (const role of Object.keys(expected) as WebRole[]) got[role] = (await get(role, path)).status;
      expect({ path, got }).toEqual({ path, got: expected });
      const anonymous = await get(undefined, path);
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get('location')).toBe(`/app/sign-in?returnTo=${encodeURIComponent(path)}`);
    }
    // The raw message: only the admin's view is audited (refused views are not reads).
    const raw = await t.hub.db.query<{ actor: string }>(`SELECT actor FROM audit_events WHERE action = 'raw-read' AND message_id = $1`, [
      quarantinedId,
    ]);
    expect(raw.rows.map((r) => r.actor)).toEqual(['user:sub-admin']);
    // The operator's message page holds no raw body and no link to it.
    const asOperator = await (await get('operator', `/app/operations/messages/${quarantinedId}`)).text();
    expect(asOperator).not.toContain('View the raw message');
    expect(asOperator).not.toContain(baby.baby.nhsNumber);
  });

  test('the what-if run is a form post for the IG lead only; an empty proposal is a 400 naming the field', async () => {
    for (const role of ['centre-worker', 'operator', 'admin'] as const)
      expect((await post(role, '/app/agreements/what-if')).status).toBe(403);
    const asIg = await post('ig-lead', '/app/agreements/what-if');
    expect(asIg.status).toBe(400);
    expect(await asIg.text()).toContain('The proposed agreement is not valid JSON');
  });

  test('the disclosure report is a form post for the IG lead only, with an NHS number and a reason; refusals export nothing', async () => {
    for (const role of ['centre-worker', 'operator', 'admin'] as const) {
      expect((await post(role, '/app/disclosures')).status).toBe(403);
      expect((await post(role, '/app/disclosures/csv')).status).toBe(403);
    }
    const asIg = await post('ig-lead', '/app/disclosures');
    expect(asIg.status).toBe(400);
    const page = await asIg.text();
    expect(page).toContain('Enter the NHS number of the person');
    expect(page).toContain('Enter the reason for this report');
    const exported = await t.hub.db.query(`SELECT 1 FROM audit_events WHERE action = 'exported'`);
    expect(exported.rows).toHaveLength(0);
  });

  test('the consent history is a form post for the IG lead only: a wrong NHS number is a 400, a look-up is audited as the API’s', async () => {
    for (const role of ['centre-worker', 'operator', 'admin'] as const) expect((await post(role, '/app/consents')).status).toBe(403);
    const wrong = await post('ig-lead', '/app/consents', { nhsNumber: '1234567890' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('check digit is wrong');
    const nhs = baby.baby.nhsNumber;
    const found = await post('ig-lead', '/app/consents', { nhsNumber: nhs });
    expect(found.status).toBe(200);
    expect(await found.text()).toContain('No consent or objection has been recorded about this NHS number');
    const reads = await t.hub.db.query<{ actor: string; query: string; results: string }>(
      `SELECT actor, details ->> 'query' AS query, details ->> 'results' AS results FROM audit_events
        WHERE action = 'read' AND subject_nhs_number = $1 AND details ->> 'query' = 'consent-history'`,
      [pseudo(nhs)],
    );
    expect(reads.rows).toEqual([{ actor: 'user:sub-ig-lead', query: 'consent-history', results: '0' }]);
    expect(t.sink.text).not.toContain(nhs);
  });

  test('replay is a form post for operators and admins only, with the session’s CSRF token', async () => {
    for (const role of ['centre-worker', 'ig-lead'] as const)
      expect((await post(role, `/app/operations/messages/${quarantinedId}/replay`)).status).toBe(403);
    const forged = await fetch(`${t.http}/app/operations/messages/${quarantinedId}/replay`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookies.get('operator')?.cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=not-the-token',
    });
    expect(forged.status).toBe(403);
    // Still refused by its sender check (RX9 is not this feed key's): the replay runs, the message stays quarantined.
    const replay = await post('operator', `/app/operations/messages/${quarantinedId}/replay`);
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe(`/app/operations/messages/${quarantinedId}?replayed=1`);
    const audited = await t.hub.db.query<{ actor: string; details: { name?: string } }>(
      `SELECT actor, details FROM audit_events WHERE action = 'replayed' AND message_id = $1`,
      [quarantinedId],
    );
    expect(audited.rows.map((r) => [r.actor, r.details.name])).toEqual([['user:sub-operator', 'Test operator']]);
    expect((await post('operator', `/app/operations/messages/${messageId}/replay`)).status).toBe(409);
    expect((await post('operator', '/app/operations/messages/00000000-0000-4000-8000-000000000000/replay')).status).toBe(404);
  });

  test('the audit search: by the baby’s or the mother’s NHS number, by centre, by dates; the trail from receipt to read', async () => {
    const audit = new SqlAuditLog(t.hub.db, demoCipher);
    const bySubject = await audit.searchNotifications({ subject: baby.baby.nhsNumber, limit: 10 });
    expect(bySubject.map((n) => n.notificationId)).toEqual([notificationId]);
    expect(bySubject[0]?.recipients).toEqual(['osmondthorpe']);
    expect(bySubject[0]?.reads).toBeGreaterThanOrEqual(1);
    const byMother = await audit.searchNotifications({ subject: baby.mother?.nhsNumber ?? '', limit: 10 });
    expect(byMother.map((n) => n.notificationId)).toEqual([notificationId]);
    expect((await audit.searchNotifications({ recipient: 'osmondthorpe', limit: 10 })).map((n) => n.notificationId)).toContain(
      notificationId,
    );
    expect(await audit.searchNotifications({ recipient: 'harehills', subject: baby.baby.nhsNumber, limit: 10 })).toEqual([]);
    const hourAgo = new Date(Date.now() - 3_600_000);
    expect(await audit.searchNotifications({ subject: baby.baby.nhsNumber, before: hourAgo, limit: 10 })).toEqual([]);
    expect(await audit.searchNotifications({ subject: baby.baby.nhsNumber, from: new Date(Date.now() + 3_600_000), limit: 10 })).toEqual(
      [],
    );
    expect(await audit.searchNotifications({ subject: baby.baby.nhsNumber, from: hourAgo, limit: 10 })).toHaveLength(1);

    const trail = await audit.trail(notificationId, 100);
    const actions = trail.map((e) => e.action);
    expect(actions[0]).toBe('received');
    expect(actions).toEqual(expect.arrayContaining(['decided', 'delivered', 'read']));
    expect(trail.find((e) => e.action === 'read' && e.actor === 'user:w1')?.details).toEqual({
      name: 'Wendy Worker',
      role: 'centre-worker',
      purpose: 'care',
    });
    expect(trail.map((e) => e.seq)).toEqual([...trail.map((e) => e.seq)].sort((a, b) => a - b));
    expect(await audit.trail('00000000-0000-4000-8000-000000000000', 100)).toEqual([]);

    // The page: the IG lead's search and trail views are audited as reads by that person.
    const page = await (await get('ig-lead', `/app/audit/notifications/${notificationId}`)).text();
    expect(page).toContain('Read by Wendy Worker (children&#39;s centre worker, Osmondthorpe Family Hub)');
    const own = await t.hub.db.query<{ details: { query?: string } }>(
      `SELECT details FROM audit_events WHERE action = 'read' AND actor = 'user:sub-ig-lead' AND notification_id = $1`,
      [notificationId],
    );
    expect(own.rows.map((r) => r.details.query)).toContain('audit-trail');
  });

  test('feed activity: each feed’s last message and today’s messages by ACK code, unknown senders apart', async () => {
    const startOfDay = new Date(Date.now() - 6 * 3_600_000);
    const activity = await new SqlMessageStore(t.hub.db).feedActivity(['northgate-maternity', 'northvale-adt'], startOfDay);
    expect(activity.map((a) => a.feedId)).toEqual(['northgate-maternity', 'northvale-adt', undefined]);
    const northgate = activity[0];
    expect(northgate?.lastReceivedAt).toBeInstanceOf(Date);
    // WEB-1 accepted for Northgate; WEB-2 names Northvale's facility (refused: this key may not send for it).
    expect(Object.entries(northgate?.todayByAckCode ?? {})).toEqual([[expect.stringMatching(/^[AC]A$/), 1]]);
    expect(Object.entries(activity[1]?.todayByAckCode ?? {})).toEqual([[expect.stringMatching(/^[AC]R$/), 1]]);
    expect(activity[2]).toEqual({ todayByAckCode: {} });
    const none = await new SqlMessageStore(t.hub.db).feedActivity(['northgate-maternity'], new Date(Date.now() + 3_600_000));
    expect(none[0]?.todayByAckCode).toEqual({});
  });
});
