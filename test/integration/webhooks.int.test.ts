import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import path from 'node:path';
import { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { verifySignature } from '../../src/domain/webhook-signature.js';
import { copySampleConfig } from '../support/sample-config.js';
import { pollUntil } from '../support/poll.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { storeKind } from '../support/test-database.js';
import { sendAccepted } from '../support/consent-helpers.js';
import { bookingMessage, lossMessage, nhsNumberFrom } from '../support/synthetic/antenatal-booking.js';
import { main as replayCli } from '../../adapters/cli/replay.js';
import { babyNhsNumberOf, pseudo } from '../support/data-keys.js';

const NEW_SECRET = 'new-secret-of-the-test-0123456789abcdefghij';
const OLD_SECRET = 'old-secret-of-the-test-0123456789abcdefghij';
const ADMIN = 'demo-admin-key';
const FEED = 'demo-northgate-feed-key';
const RX1 = { sendingFacility: 'RX1', sendingApplication: 'MATERNITY' } as const;

interface Received {
  key: string;
  event: string;
  verified: boolean;
  body: { id: string; event: string; centreId: string; notification: { notificationId: string; status: string; record?: unknown } };
}

/**
 * A real HTTPS webhook receiver (self-signed certificate) that verifies each signature with the one secret it
 * knows, dedupes by idempotency key, and can hang (never answer), answer 500, or answer 200.
 */
class Receiver {
  mode: 'hang' | '500' | 'ok' = 'ok';
  readonly received: Received[] = [];
  /** Keys answered 2xx, with how many times each came (a second copy is deduped: still once). */
  readonly accepted = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly server: https.Server;

  constructor(tls: { key: Buffer; cert: Buffer }, secrets: readonly string[]) {
    this.server = https.createServer(tls, (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const key = String(req.headers['idempotency-key'] ?? '');
        const verified = verifySignature(String(req.headers['stork-signature']), raw, secrets).ok;
        this.received.push({
          key,
          event: String(req.headers['stork-event']),
          verified,
          body: JSON.parse(raw.toString('utf8')) as Received['body'],
        });
        if (this.mode === 'hang') return;
        if (this.mode === '500' || !verified) {
          res.writeHead(verified ? 500 : 401).end();
          return;
        }
        this.accepted.set(key, (this.accepted.get(key) ?? 0) + 1);
        res.writeHead(200).end('{"ok":true}');
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get open(): number {
    return this.sockets.size;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
  }

  /** Changes mode and drops every connection (a hung request then fails at the sender). */
  set(mode: Receiver['mode']): void {
    this.mode = mode;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A loopback port nobody listens on (yet): connecting is refused. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * Webhooks end to end (issue 15 items 1–3) with real HTTPS receivers: Richmond Hill's receiver refuses connections,
 * then hangs (timeouts), then answers 500, then recovers, and gets every delivery, each key once; Belle Isle's
 * receiver hangs throughout and never delays Richmond Hill's. Belle Isle's deliveries then become dead letters, an
 * objection withdraws one of them, and the operator's "replay all" sends the other and not the withdrawn one.
 * Store-agnostic and a few seconds long: PostgreSQL project only.
 */
(storeKind() === 'postgres' ? describe : describe.skip)('Webhooks: signed pushes, retries, isolation, dead letters and replay', () => {
  let t: TestHub;
  let client: MllpClient;
  let richmond: Receiver;
  let belle: Receiver;
  let richmondPort: number;
  let configDir: string;

  beforeAll(async () => {
    const dir = copySampleConfig('stork-webhooks-');
    configDir = dir;
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        path.join(dir, 'receiver.key'),
        '-out',
        path.join(dir, 'receiver.pem'),
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = { key: readFileSync(path.join(dir, 'receiver.key')), cert: readFileSync(path.join(dir, 'receiver.pem')) };
    writeFileSync(path.join(dir, 'old-secret.txt'), `${OLD_SECRET}\n`);
    // Richmond Hill's receiver knows only the OLD secret: the hub, mid-rotation, signs with both.
    richmond = new Receiver(tls, [OLD_SECRET]);
    belle = new Receiver(tls, [NEW_SECRET]);
    belle.mode = 'hang';
    richmondPort = await freePort();
    const bellePort = await freePort();
    await belle.listen(bellePort);
    const file = path.join(dir, 'mappings', 'catchments.json');
    const catchments = JSON.parse(readFileSync(file, 'utf8')) as { localAuthorities: { centres: { id: string; delivery: unknown }[] }[] };
    for (const la of catchments.localAuthorities)
      for (const c of la.centres) {
        if (c.id === 'richmond-hill')
          c.delivery = {
            mode: 'webhook',
            url: `https://127.0.0.1:${richmondPort}/stork`,
            secrets: [{ env: 'STORK_WEBHOOK_SECRET_RICHMOND' }, { file: 'old-secret.txt' }],
            caFile: 'receiver.pem',
            timeoutMs: 300,
          };
        if (c.id === 'belle-isle')
          c.delivery = {
            mode: 'both',
            url: `https://127.0.0.1:${bellePort}/stork`,
            secrets: [{ env: 'STORK_WEBHOOK_SECRET_RICHMOND' }],
            caFile: 'receiver.pem',
            timeoutMs: 60000,
          };
      }
    writeFileSync(file, JSON.stringify(catchments));
    t = await startTestHub({
      configDir: dir,
      env: {
        STORK_WEBHOOK_SECRET_RICHMOND: NEW_SECRET,
        STORK_WEBHOOK_BACKOFF_MS: '20',
        STORK_WEBHOOK_BACKOFF_MAX_MS: '150',
        STORK_WEBHOOK_HORIZON_MS: '6000',
        STORK_WEBHOOK_SWEEP_MS: '100',
        STORK_WEBHOOK_CONCURRENCY: '2',
      },
    });
    client = await MllpClient.connect({ host: '127.0.0.1', port: t.mllpPort, timeoutMs: 10000 });
  });
  afterAll(async () => {
    await client.close();
    await Promise.all([richmond.close(), belle.close()]);
    await t.stop();
  });

  const rows = async (centre: string) =>
    (
      await t.database.db.query<{
        id: string;
        idempotency_key: string;
        notification_id: string;
        event: string;
        status: string;
        attempts: number;
        last_error: string | null;
      }>(
        `SELECT id, idempotency_key, notification_id, event, status, attempts, last_error FROM webhook_deliveries WHERE centre_id = $1 ORDER BY created_at`,
        [centre],
      )
    ).rows;
  const errorSeen = (centre: string, error: string) =>
    pollUntil(async () => ((await rows(centre)).some((r) => r.last_error === error) ? true : undefined), `a ${error} at ${centre}`);
  const postObjection = async (nhs: string | undefined): Promise<void> => {
    const res = await api(t.http, FEED, '/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: 'any', source: 'midwife', kind: 'objection', scope: 'offer-of-support', babyNhsNumber: nhs }),
    });
    expect(res.status).toBe(201);
  };

  const richmondBabies = [1, 2, 3, 4].map((i) =>
    describeNewborn({ ...RX1, seed: 7100 + i, controlId: `HOOK-R${i}`, messageTime: new Date(), postcodes: ['LS9 7XY'] }),
  );
  const belleBabies = [1, 2].map((i) =>
    describeNewborn({ ...RX1, seed: 7200 + i, controlId: `HOOK-B${i}`, messageTime: new Date(), postcodes: ['LS10 3AB'] }),
  );

  test('a receiver that refuses, times out and answers 500 gets every delivery once it recovers, while a hanging one delays nobody', async () => {
    for (const b of [...richmondBabies, ...belleBabies]) await sendAccepted(client, b.text);
    await pollUntil(async () => ((await rows('richmond-hill')).length === 4 ? true : undefined), 'four Richmond Hill deliveries');
    await errorSeen('richmond-hill', 'ECONNREFUSED');
    await richmond.listen(richmondPort);
    richmond.mode = 'hang';
    await errorSeen('richmond-hill', 'timeout');
    richmond.set('500');
    await errorSeen('richmond-hill', 'HTTP 500');
    richmond.set('ok');
    const delivered = await pollUntil(async () => {
      const r = await rows('richmond-hill');
      return r.length === 4 && r.every((x) => x.status === 'delivered') ? r : undefined;
    }, 'every Richmond Hill delivery');
    // Exactly once from the receiver's point of view: the keys it accepted are the keys sent, each verified.
    expect(new Set(richmond.accepted.keys())).toEqual(new Set(delivered.map((r) => r.idempotency_key)));
    expect(richmond.received.every((r) => r.verified)).toBe(true);
    expect(richmond.received.every((r) => r.event === 'notification.delivered')).toBe(true);
    const first = richmond.received.find((r) => r.key === delivered[0]?.idempotency_key);
    expect(first?.body).toMatchObject({ event: 'notification.delivered', centreId: 'richmond-hill', notification: { status: 'new' } });
    expect(first?.body.notification.record).toBeDefined();
    expect(delivered.every((r) => r.attempts > 1)).toBe(true);
    // Meanwhile Belle Isle's receiver still holds its requests unanswered: its hang delayed nobody.
    expect(belle.received.length).toBeGreaterThan(0);
    expect(belle.accepted.size).toBe(0);
    expect((await rows('belle-isle')).every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);
    // `webhook` mode: the 2xx acknowledged the inbox items (just after the delivery is recorded, so polled); every push audited.
    await pollUntil(async () => {
      const acked = await t.database.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM inbox_items WHERE inbox_id = 'richmond-hill' AND status = 'acknowledged'`,
      );
      return Number(acked.rows[0]?.n) === 4 ? true : undefined;
    }, 'four Richmond Hill inbox items acknowledged by the receipts');
    const audit = await t.database.db.query<{ action: string; n: string }>(
      `SELECT action, count(*) AS n FROM audit_events WHERE recipient = 'richmond-hill' AND action LIKE 'webhook-%' GROUP BY action`,
    );
    expect(audit.rows.map((r) => [r.action, Number(r.n)])).toEqual([['webhook-delivered', 4]]);
    const metrics = await t.hub.metrics.text();
    expect(metrics).toMatch(/stork_deliveries_total\{outcome="webhook-delivered"\} 4/);
    expect(metrics).toMatch(/stork_deliveries_total\{outcome="webhook-failed"\} [1-9]/);

    // An objection withdraws one: its withdrawal is pushed, with no record.
    const withdrawnId = delivered[0]?.notification_id;
    const baby = richmondBabies.find((b) => first?.body.notification.notificationId === withdrawnId && b) ?? richmondBabies[0];
    const nhs = await babyNhsNumberOf(t.database.db, withdrawnId ?? '');
    expect(baby).toBeDefined();
    await postObjection(nhs);
    const withdrawal = await pollUntil(() => richmond.received.find((r) => r.event === 'notification.withdrawn'), 'the withdrawal');
    expect(withdrawal.verified).toBe(true);
    expect(withdrawal.body.notification).toMatchObject({ notificationId: withdrawnId, status: 'withdrawn' });
    expect(withdrawal.body.notification.record).toBeUndefined();
  });

  test('deliveries failing past the horizon become dead letters; replaying all re-applies consent: one sent, one withdrawn since', async () => {
    belle.set('500');
    const dead = await pollUntil(
      async () => {
        const r = await rows('belle-isle');
        return r.length === 2 && r.every((x) => x.status === 'dead') ? r : undefined;
      },
      'two dead letters',
      20000,
    );
    expect(dead.every((r) => r.last_error !== null && /^(HTTP 500|ECONNRESET|socket hang up|Error)$/.test(r.last_error))).toBe(true);
    const list = await api(t.http, ADMIN, '/v1/webhooks/dead-letters?centreId=belle-isle');
    expect(list.status).toBe(200);
    const listed = ((await list.json()) as { items: { id: string; lastError: string }[] }).items;
    expect(listed.map((d) => d.id).sort()).toEqual(dead.map((d) => d.id).sort());
    await pollUntil(
      async () => ((await t.hub.metrics.text()).includes('stork_dead_letters{source="belle-isle"} 2') ? true : undefined),
      'the gauge',
    );
    // The CLI lists the same dead letters (`npm run replay -- --list --centre belle-isle --json`).
    const cliEnv = { DATABASE_URL: t.database.url ?? '', STORK_CONFIG_DIR: configDir };
    const out: string[] = [];
    const err: string[] = [];
    const sink = (to: string[]) => ({ write: (s: string) => to.push(s) });
    expect(await replayCli(['--list', '--centre', 'belle-isle', '--json'], sink(out), sink(err), cliEnv)).toBe(0);
    expect((JSON.parse(out.join('')) as { items: { id: string }[] }).items.map((d) => d.id).sort()).toEqual(dead.map((d) => d.id).sort());
    expect(await replayCli(['--all'], sink(out), sink(err), cliEnv)).toBe(2);
    expect(await replayCli(['--list', '--centre', 'nowhere'], sink(out), sink(err), cliEnv)).toBe(2);

    // The family of one objects; the receiver recovers; the operator replays all of Belle Isle's dead letters.
    const objected = dead[1];
    const nhs = await babyNhsNumberOf(t.database.db, objected?.notification_id ?? '');
    await postObjection(nhs);
    belle.set('ok');
    const res = await api(t.http, ADMIN, '/v1/webhooks/centres/belle-isle/replay', { method: 'POST' });
    expect(res.status).toBe(200);
    const replay = (await res.json()) as {
      replayed: number;
      requeued: number;
      superseded: number;
      items: { deadLetterId: string; outcome: string; reason?: string; message: string }[];
    };
    expect(replay).toMatchObject({ replayed: 2, requeued: 1, superseded: 1 });
    expect(replay.items.find((i) => i.deadLetterId === objected?.id)).toMatchObject({ outcome: 'superseded', reason: 'withdrawn' });
    expect(replay.items.find((i) => i.deadLetterId === objected?.id)?.message).toMatch(/withdrawn since/);
    const sent = dead[0];
    await pollUntil(() => (belle.accepted.has(sent?.idempotency_key ?? '') ? true : undefined), 'the replayed delivery');
    // The receiver's 2xx is seen before the hub has recorded it: wait for the row to say so.
    await pollUntil(async () => {
      const r = await t.database.db.query<{ status: string }>('SELECT status FROM webhook_deliveries WHERE idempotency_key = $1', [
        sent?.idempotency_key,
      ]);
      return r.rows[0]?.status === 'delivered' ? true : undefined;
    }, 'the replayed delivery recorded as delivered');
    // The withdrawn one's notification is never accepted; its withdrawal is its own event (the notification may have arrived).
    expect(belle.accepted.has(objected?.idempotency_key ?? '')).toBe(false);
    await pollUntil(
      () => ([...belle.received].some((r) => r.event === 'notification.withdrawn' && belle.accepted.has(r.key)) ? true : undefined),
      'the withdrawal of the objected one',
    );
    const audits = await t.database.db.query<{ outcome: string; details: { deadLetterId: string; idempotencyKey: string; role: string } }>(
      `SELECT outcome, details FROM audit_events WHERE action = 'webhook-replayed' ORDER BY seq`,
    );
    expect(audits.rows.map((a) => [a.outcome, a.details.deadLetterId]).sort()).toEqual(
      [
        ['requeued', sent?.id],
        ['superseded', objected?.id],
      ].sort(),
    );
    // A second replay of the same, by the CLI: not a dead letter any more (exit 1, said so), audited nowhere.
    out.length = 0;
    expect(await replayCli(['--id', sent?.id ?? ''], sink(out), sink(err), cliEnv)).toBe(1);
    expect(out.join('')).toContain('Not a dead letter (it is delivered)');
    // By the API: 409; a forged id: 404.
    expect((await api(t.http, ADMIN, `/v1/webhooks/dead-letters/${sent?.id}/replay`, { method: 'POST' })).status).toBe(409);
    expect((await api(t.http, ADMIN, '/v1/webhooks/dead-letters/not-an-id/replay', { method: 'POST' })).status).toBe(404);
    expect((await api(t.http, 'demo-osmondthorpe-key', '/v1/webhooks/dead-letters')).status).toBe(403);
    expect((await api(t.http, ADMIN, '/v1/webhooks/dead-letters?centreId=osmondthorpe')).status).toBe(400);
  });

  test('an antenatal booking shared with a webhook centre, and its withdrawal, are pushed signed, marked antenatal', async () => {
    richmond.set('ok');
    const mother = {
      nhs: nhsNumberFrom(999_100_000 + 91 * 37),
      family: 'HOOKBOOK',
      given: 'ROSALIND',
      dob: '19940312',
      postcode: 'LS9 7XY',
    };
    await sendAccepted(client, bookingMessage(mother, { controlId: 'HOOK-ANC', dueDate: '20270901', pregnancyId: 'PH1', consent: 'A' }));
    const booking = await pollUntil(async () => {
      const r = await t.database.db.query<{ id: string; inbox_id: string | null; status: string }>(
        'SELECT id, inbox_id, status FROM antenatal_notifications WHERE mother_nhs_number = $1',
        [pseudo(mother.nhs)],
      );
      return r.rows[0]?.status === 'delivered' ? r.rows[0] : undefined;
    }, 'the booking shared');
    expect(booking.inbox_id).toBe('richmond-hill');
    interface AntenatalBody {
      id: string;
      event: string;
      kind?: string;
      centreId: string;
      antenatal?: {
        antenatalId: string;
        kind: string;
        status: string;
        record?: { mother: { nhsNumber: string }; estimatedDueDate: string };
      };
    }
    const pushed = (event: string) =>
      pollUntil(() => {
        const r = richmond.received.find((x) => {
          const b = x.body as unknown as AntenatalBody;
          return x.event === event && b.antenatal?.antenatalId === booking.id && richmond.accepted.has(x.key);
        });
        return r && { ...r, body: r.body as unknown as AntenatalBody };
      }, `${event} received`);
    const shared = await pushed('antenatal.delivered');
    expect(shared.verified).toBe(true);
    expect(shared.body).toMatchObject({
      event: 'antenatal.delivered',
      kind: 'antenatal',
      centreId: 'richmond-hill',
      antenatal: { kind: 'antenatal', record: { mother: { nhsNumber: mother.nhs }, estimatedDueDate: '2027-09-01' } },
    });
    expect(JSON.stringify(shared.body)).not.toContain('PH1');
    // Richmond Hill takes webhooks only: the receiver's 2xx took the item on, as for a birth.
    const acked = await pollUntil(async () => {
      const r = await t.database.db.query<{ acknowledged_by: string | null }>(
        'SELECT acknowledged_by FROM antenatal_notifications WHERE id = $1',
        [booking.id],
      );
      return r.rows[0]?.acknowledged_by ?? undefined;
    }, 'the booking acknowledged by the webhook');
    expect(acked).toBe('webhook:richmond-hill');

    // A loss withdraws it: the withdrawal is pushed, without content.
    await sendAccepted(client, lossMessage(mother, { controlId: 'HOOK-ANC-LOSS', pregnancyId: 'PH1' }));
    const withdrawn = await pushed('antenatal.withdrawn');
    expect(withdrawn.verified).toBe(true);
    expect(withdrawn.body).toMatchObject({ event: 'antenatal.withdrawn', kind: 'antenatal', antenatal: { status: 'withdrawn' } });
    expect(withdrawn.body.antenatal?.record).toBeUndefined();
    expect(JSON.stringify(withdrawn.body)).not.toContain(mother.nhs);
    // The receiver has the withdrawal; the hub records the 2xx (row and audit) just after: wait for both rows to settle.
    const deliveries = await pollUntil(async () => {
      const r = await t.database.db.query<{ event: string; kind: string; status: string }>(
        `SELECT event, kind, status FROM webhook_deliveries WHERE notification_id = $1 ORDER BY created_at`,
        [booking.id],
      );
      return r.rows.length === 2 && r.rows.every((d) => d.status !== 'pending') ? r : undefined;
    }, 'both antenatal deliveries recorded');
    expect(deliveries.rows).toEqual([
      { event: 'delivered', kind: 'antenatal', status: 'delivered' },
      { event: 'withdrawn', kind: 'antenatal', status: 'delivered' },
    ]);
    const audit = await t.database.db.query<{ subject_nhs_number: string; details: { kind?: string; event: string } }>(
      `SELECT subject_nhs_number, details FROM audit_events WHERE action = 'webhook-delivered' AND notification_id = $1 ORDER BY seq`,
      [booking.id],
    );
    expect(audit.rows.map((r) => [r.subject_nhs_number, r.details.kind, r.details.event])).toEqual([
      [pseudo(mother.nhs), 'antenatal', 'delivered'],
      [pseudo(mother.nhs), 'antenatal', 'withdrawn'],
    ]);
  });
});
