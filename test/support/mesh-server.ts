import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/**
 * A MESH server for the tests, on loopback, following the published MESH API as NHSDigital/mesh-sandbox implements
 * it (routers/*, handlers/inbox.py, store/base.py):
 *
 * - every call is authorised by `Authorization: NHSMESH {mailbox}:{nonce}:{count}:{yyyyMMddHHmm}:{hmac}`, the HMAC
 *   (SHA-256, keyed with the shared key) of `{mailbox}:{nonce}:{count}:{password}:{timestamp}` checked against the
 *   mailbox's password: no or unreadable header 400, another mailbox's header or a wrong HMAC 403, a nonce used
 *   before 403 (a replayed header);
 * - handshake `GET|POST /messageexchange/{mailbox}`;
 * - send `POST .../outbox` (mex-To, mex-WorkflowID, mex-Chunk-Range 1:N, Content-Encoding gzip) and the further
 *   chunks `POST .../outbox/{id}/{n}`;
 * - inbox listing `GET .../inbox` (v2 JSON with `application/vnd.mesh.v2+json`: messages, approx_inbox_count,
 *   links.self/next; `max_results`, `continue_from`, `workflow_filter` with the sandbox's `!`, `*x*`, `x*` forms);
 * - download `GET .../inbox/{id}` and `.../inbox/{id}/{n}`: 206 with mex-Chunk-Range n:N and mex-Total-Chunks until
 *   the last chunk (200); a gzip message is sent gzip when the client accepts it (else unpacked per chunk), and a
 *   plain one is gzipped for a v2 client accepting gzip; 404 unknown, 403 another mailbox's, 410 acknowledged;
 * - acknowledge `PUT .../inbox/{id}/status/acknowledged` (the message leaves the inbox).
 *
 * For the tests it can also fail for a while (5xx), fail acknowledgements, and serve hostile messages (a body
 * that never ends, more chunks than any client should read). It records every call it answered.
 */
export interface MeshServerOptions {
  sharedKey: string;
  /** Mailbox id → password. */
  mailboxes: Record<string, string>;
  /** Serve https and require a client certificate signed by `ca` (as MESH does). */
  tls?: { key: Buffer; cert: Buffer; ca: Buffer };
}

interface Message {
  id: string;
  sender: string;
  recipient: string;
  workflowId: string;
  chunks: Buffer[];
  totalChunks: number;
  gzip: boolean;
  status: 'uploading' | 'accepted' | 'acknowledged';
  hostile?: 'endless-body' | 'many-chunks' | 'stall';
  /** Size of each made-up chunk of a `many-chunks` message. */
  chunkBytes?: number;
}

export interface MeshCall {
  method: string;
  path: string;
  status: number;
  mailbox?: string;
}

/** How the test sends a message: one body, cut into `chunks` pieces, gzip as one stream or per chunk, or gzip already. */
export interface SendOptions {
  from: string;
  to: string;
  workflowId: string;
  body: Buffer | string;
  chunks?: number;
  gzip?: 'whole' | 'per-chunk' | 'already';
}

type Answered = 'answered';

const V2 = /application\/vnd\.mesh\.v(\d+)\+json/;

export class MeshServer {
  readonly calls: MeshCall[] = [];
  private readonly messages = new Map<string, Message>();
  private readonly nonces = new Set<string>();
  private server: http.Server | undefined;
  private failuresLeft = 0;
  private failStatus = 503;
  private ackFailuresLeft = 0;
  private seq = 0;
  /**
   * Runs before an acknowledgement is recorded (a test looks at the store at that moment); a status it returns is
   * answered instead, and the message stays in the inbox.
   */
  beforeAck: ((id: string) => Promise<number | undefined>) | undefined;

  constructor(private readonly o: MeshServerOptions) {}

  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    return `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${a?.port ?? 0}`;
  }

  async start(): Promise<this> {
    const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
    this.server = this.o.tls
      ? https.createServer({ ...this.o.tls, requestCert: true, rejectUnauthorized: true }, listener)
      : http.createServer(listener);
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The next `n` calls (any) are answered `status` (a MESH outage). */
  failNext(n: number, status = 503): void {
    this.failuresLeft = n;
    this.failStatus = status;
  }

  /** The next `n` acknowledgements are answered 500 (and not recorded). */
  failAcks(n: number): void {
    this.ackFailuresLeft = n;
  }

  /** Changes a mailbox's password (the client's header no longer verifies). */
  setPassword(mailbox: string, password: string): void {
    this.o.mailboxes[mailbox] = password;
  }

  status(id: string): Message['status'] | undefined {
    return this.messages.get(id)?.status;
  }

  /** Ids waiting in a mailbox's inbox (accepted, not acknowledged). */
  inbox(mailbox: string): string[] {
    return [...this.messages.values()].filter((m) => m.recipient === mailbox && m.status === 'accepted').map((m) => m.id);
  }

  /** Acknowledgements the server answered 200, in order. */
  acknowledged(): string[] {
    return this.calls
      .filter((c) => c.method === 'PUT' && c.path.endsWith('/status/acknowledged') && c.status === 200)
      .map((c) => c.path.split('/')[4] ?? '');
  }

  /** Downloads of a message's first chunk the server answered. */
  downloads(id: string): number {
    return this.calls.filter((c) => c.method === 'GET' && c.path.endsWith(`/inbox/${id}`) && (c.status === 200 || c.status === 206)).length;
  }

  /**
   * A message that breaks every rule, put straight into an inbox: `endless-body` is one chunk whose body never ends;
   * `stall` sends its headers and one byte, then nothing;
   * `many-chunks` claims `chunks` chunks of `chunkBytes` random bytes each.
   */
  putHostile(to: string, workflowId: string, hostile: Message['hostile'], chunks = 1, chunkBytes = 256 * 1024): string {
    const id = this.newId();
    this.messages.set(id, {
      chunkBytes,
      id,
      sender: to,
      recipient: to,
      workflowId,
      chunks: [],
      totalChunks: chunks,
      gzip: false,
      status: 'accepted',
      hostile,
    });
    return id;
  }

  private newId(): string {
    this.seq++;
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 17);
    return `${stamp}${String(this.seq).padStart(3, '0')}_${randomBytes(3).toString('hex').toUpperCase()}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<Answered> {
    const url = new URL(req.url ?? '/', 'http://mesh');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const call: MeshCall = { method, path: url.pathname, status: 0 };
    // Each answer is the handler's result: `return json(...)` ends the request's handling.
    const answer = (status: number, headers: http.OutgoingHttpHeaders = {}, body: Buffer | string = ''): Answered => {
      call.status = status;
      this.calls.push(call);
      res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers }).end(body);
      return 'answered';
    };
    const json = (status: number, value: unknown, type = 'application/json'): Answered =>
      answer(status, { 'content-type': type }, JSON.stringify(value));
    const body = await readBody(req);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return json(this.failStatus, { errorDescription: 'service unavailable' });
    }
    if (parts[0] !== 'messageexchange' || parts[1] === undefined) {
      return json(404, { errorDescription: 'not found' });
    }
    const mailbox = parts[1].toUpperCase();
    call.mailbox = mailbox;
    const auth = this.authorise(mailbox, req.headers.authorization);
    if (auth !== 200) {
      return json(auth, { errorDescription: auth === 400 ? 'Error reading authorization header' : 'Invalid authentication token' });
    }
    const version = Number(V2.exec(req.headers.accept ?? '')?.[1] ?? '1');
    const acceptsGzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const rest = parts.slice(2);

    // Handshake.
    if (rest.length === 0 && (method === 'GET' || method === 'POST')) {
      return json(200, version >= 2 ? {} : { mailboxId: mailbox });
    }

    // Send: the first chunk creates the message; the others follow.
    if (rest[0] === 'outbox' && method === 'POST') {
      if (rest.length === 1) {
        const to = String(req.headers['mex-to'] ?? '').toUpperCase();
        const workflowId = String(req.headers['mex-workflowid'] ?? '');
        if (!(to in this.o.mailboxes) || workflowId === '') {
          return json(417, { errorDescription: 'bad recipient or workflow' });
        }
        const total = Number(/^1:(\d+)$/.exec(String(req.headers['mex-chunk-range'] ?? '1:1'))?.[1] ?? NaN);
        if (!Number.isInteger(total) || total < 1) {
          return json(400, { errorDescription: 'bad chunk range' });
        }
        const id = this.newId();
        this.messages.set(id, {
          id,
          sender: mailbox,
          recipient: to,
          workflowId,
          chunks: [body],
          totalChunks: total,
          gzip: (req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip',
          status: total === 1 ? 'accepted' : 'uploading',
        });
        return json(202, { message_id: id });
      }
      const m = this.messages.get(rest[1] ?? '');
      const n = Number(rest[2]);
      if (m?.sender !== mailbox || m.status !== 'uploading' || n !== m.chunks.length + 1) {
        return json(404, { errorDescription: 'no such upload' });
      }
      m.chunks.push(body);
      if (m.chunks.length === m.totalChunks) m.status = 'accepted';
      return json(202, { message_id: m.id });
    }

    if (rest[0] !== 'inbox') {
      return json(404, { errorDescription: 'not found' });
    }

    // Listing.
    if (rest.length === 1 && method === 'GET') {
      const max = Math.max(1, Math.min(Number(url.searchParams.get('max_results') ?? '500') || 500, 500));
      const filter = workflowFilter(url.searchParams.get('workflow_filter') ?? '');
      let list = [...this.messages.values()].filter((m) => m.recipient === mailbox && m.status === 'accepted' && filter(m.workflowId));
      const from = url.searchParams.get('continue_from');
      if (from !== null) {
        const last = decodeToken(from);
        if (last === undefined) {
          return json(400, { errorDescription: 'bad continue_from' });
        }
        const at = list.findIndex((m) => m.id === last);
        if (at > -1) list = list.slice(at + 1);
      }
      const page = list.slice(0, max);
      const ids = page.map((m) => m.id);
      if (version < 2) {
        return json(200, { messages: ids }, 'application/vnd.mesh.v1+json');
      }
      const query = new URLSearchParams();
      if (url.searchParams.has('max_results')) query.set('max_results', String(max));
      if (url.searchParams.has('workflow_filter')) query.set('workflow_filter', url.searchParams.get('workflow_filter') ?? '');
      const links: Record<string, string> = { self: `/messageexchange/${mailbox}/inbox?${query.toString()}` };
      if (list.length > max) {
        query.set('continue_from', encodeToken(ids[ids.length - 1] ?? ''));
        links.next = `/messageexchange/${mailbox}/inbox?${query.toString()}`;
      }
      return json(200, { messages: ids, approx_inbox_count: this.inbox(mailbox).length, links }, 'application/vnd.mesh.v2+json');
    }

    const m = this.messages.get(rest[1] ?? '');
    if (!m || m.status === 'uploading') {
      return json(404, { errorDescription: 'Message does not exist' });
    }
    if (m.recipient !== mailbox) {
      return json(403, { errorDescription: 'Forbidden' });
    }

    // Acknowledge.
    if (rest.length === 4 && rest[2] === 'status' && rest[3] === 'acknowledged' && method === 'PUT') {
      if (this.ackFailuresLeft > 0) {
        this.ackFailuresLeft--;
        return json(500, { errorDescription: 'acknowledgement failed' });
      }
      const instead = this.beforeAck ? await this.beforeAck(m.id) : undefined;
      if (instead !== undefined) {
        return json(instead, { errorDescription: 'acknowledgement failed' });
      }
      m.status = 'acknowledged';
      return version >= 2 ? answer(200) : json(200, { messageId: m.id });
    }

    // Download a chunk.
    if ((rest.length === 2 || rest.length === 3) && method === 'GET') {
      if (m.status === 'acknowledged') {
        return json(410, { errorDescription: 'Message has been acknowledged' });
      }
      const n = rest.length === 3 ? Number(rest[2]) : 1;
      if (!Number.isInteger(n) || n < 1 || n > m.totalChunks) {
        return json(404, { errorDescription: 'Message does not exist' });
      }
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/octet-stream',
        'mex-messageid': m.id,
        'mex-from': m.sender,
        'mex-to': m.recipient,
        'mex-workflowid': m.workflowId,
        'mex-chunk-range': `${n}:${m.totalChunks}`,
        'mex-total-chunks': String(m.totalChunks),
        'mex-messagetype': 'DATA',
      };
      const status = n >= m.totalChunks ? 200 : 206;
      if (m.hostile === 'endless-body') return this.endless(res, call, headers);
      if (m.hostile === 'stall') return this.stall(res, call, headers);
      let chunk = m.hostile === 'many-chunks' ? randomBytes(m.chunkBytes ?? 0) : (m.chunks[n - 1] ?? Buffer.alloc(0));
      if (m.gzip && !acceptsGzip) chunk = zlib.gunzipSync(chunk);
      else if (m.gzip) headers['content-encoding'] = 'gzip';
      else if (version >= 2 && acceptsGzip) {
        chunk = zlib.gzipSync(chunk);
        headers['content-encoding'] = 'gzip';
      }
      if (headers['content-encoding'] === 'gzip') headers['mex-content-compressed'] = 'Y';
      return answer(status, headers, chunk);
    }
    return json(405, { errorDescription: 'method not allowed' });
  }

  /** Headers and a first byte, then nothing: the connection stays open until the client gives up. */
  private stall(res: http.ServerResponse, call: MeshCall, headers: http.OutgoingHttpHeaders): Answered {
    call.status = 200;
    this.calls.push(call);
    res.writeHead(200, { ...headers, 'content-length': 1024 });
    res.write('<');
    return 'answered';
  }

  /** A body that never ends: 64 KiB at a time until the client hangs up. */
  private endless(res: http.ServerResponse, call: MeshCall, headers: http.OutgoingHttpHeaders): Answered {
    call.status = 200;
    this.calls.push(call);
    res.writeHead(200, headers);
    const block = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (!res.destroyed && res.write(block));
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
    return 'answered';
  }

  /** 200, or 400/403 as the sandbox answers a missing or unreadable header, another mailbox's, or a wrong HMAC. */
  private authorise(mailbox: string, header: string | undefined): number {
    const m = /^NHSMESH ([^:\s]+):([^:]+):(\d+):(\d{12}):([0-9a-f]{64})$/i.exec((header ?? '').trim());
    if (!m) return 400;
    const [, box, nonce, count, timestamp, hash] = m as unknown as [string, string, string, string, string, string];
    const password = this.o.mailboxes[mailbox];
    if (box.toUpperCase() !== mailbox || password === undefined) return 403;
    const expected = createHmac('sha256', this.o.sharedKey).update(`${box}:${nonce}:${count}:${password}:${timestamp}`).digest();
    if (!timingSafeEqual(expected, Buffer.from(hash, 'hex'))) return 403;
    const key = `${mailbox}:${nonce}:${count}`;
    if (this.nonces.has(key)) return 403;
    this.nonces.add(key);
    return 200;
  }

  /** Sends a message through the API as mailbox `from` would (the test's MESH sender), chunked and gzipped as asked. */
  async send(o: SendOptions, authorization: (mailbox: string) => string): Promise<string> {
    const body = Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
    const n = o.chunks ?? 1;
    let pieces: Buffer[];
    if (o.gzip === 'whole') pieces = split(zlib.gzipSync(body), n);
    else if (o.gzip === 'per-chunk') pieces = split(body, n).map((p) => zlib.gzipSync(p));
    else pieces = split(body, n); // plain, or gzip already
    const post = async (path: string, chunk: Buffer, headers: Record<string, string>): Promise<string> => {
      const res = await fetch(`${this.url}/messageexchange/${o.from}${path}`, {
        method: 'POST',
        headers: {
          authorization: authorization(o.from),
          accept: 'application/vnd.mesh.v2+json',
          'content-type': 'application/octet-stream',
          ...(o.gzip ? { 'content-encoding': 'gzip' } : {}),
          ...headers,
        },
        body: new Uint8Array(chunk),
      });
      if (res.status !== 202) throw new Error(`MESH send answered ${res.status}`);
      return ((await res.json()) as { message_id: string }).message_id;
    };
    const id = await post('/outbox', pieces[0] ?? Buffer.alloc(0), {
      'mex-to': o.to,
      'mex-workflowid': o.workflowId,
      'mex-chunk-range': `1:${n}`,
    });
    for (let i = 2; i <= n; i++) await post(`/outbox/${id}/${i}`, pieces[i - 1] ?? Buffer.alloc(0), { 'mex-chunk-range': `${i}:${n}` });
    return id;
  }
}

function split(b: Buffer, n: number): Buffer[] {
  const size = Math.ceil(b.length / n);
  return Array.from({ length: n }, (_, i) => b.subarray(i * size, (i + 1) * size));
}

/** The sandbox's workflow_filter: exact, `!x` not, `x*` begins with, `*x*` contains (and their negations). */
function workflowFilter(raw: string): (workflowId: string) => boolean {
  let f = raw.trim();
  if (f === '') return () => true;
  const not = f.startsWith('!');
  if (not) f = f.slice(1);
  let test: (w: string) => boolean;
  if (f.startsWith('*') && f.endsWith('*') && f.length > 1) {
    const part = f.slice(1, -1);
    test = (w) => w.includes(part);
  } else if (f.endsWith('*')) {
    const prefix = f.slice(0, -1);
    test = (w) => w.startsWith(prefix);
  } else test = (w) => w === f;
  return not ? (w) => !test(w) : test;
}

/** `continue_from` is opaque (the sandbox encrypts it): here base64url JSON of the last id of the page. */
const encodeToken = (id: string): string => Buffer.from(JSON.stringify({ message_id: id })).toString('base64url');
function decodeToken(token: string): string | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { message_id?: unknown };
    return typeof v.message_id === 'string' ? v.message_id : undefined;
  } catch {
    return undefined;
  }
}

/** The request body, bounded (a test server still refuses to hold more than 64 MiB). */
async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024 * 1024) throw new Error('request body too large');
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
