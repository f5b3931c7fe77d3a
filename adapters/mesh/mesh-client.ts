import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { MeshError, type MeshDownload, type MeshInboxPage, type MeshMailbox } from '../../src/ports/mesh-mailbox.js';
import { meshAuthorization, type MeshCredentials } from './mesh-auth.js';
import { gunzipBounded } from './gunzip-bounded.js';

export interface MeshClientOptions {
  /** Base URL of the MESH API (scheme, host, port, optional path prefix). */
  baseUrl: string;
  credentials: MeshCredentials;
  /** Client certificate and key, and the CA that signs the server's certificate (PEM); https only. */
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer };
  /** Largest message kept whole, in bytes: on the wire (all chunks) and unpacked alike. */
  maxMessageBytes: number;
  /** Chunks read of one message at most. */
  maxChunks: number;
  /** Milliseconds each call may take (connection, headers and body). */
  requestTimeoutMs: number;
  /** Sent as mex-ClientVersion in the handshake. */
  clientVersion: string;
  /** Message ids per listing page (`max_results`); default 100. */
  pageSize?: number;
}

const MESH_V2 = 'application/vnd.mesh.v2+json';
/** Inbox listings and other JSON answers are small: this bounds what a hostile server can make Stork hold. */
const MAX_JSON_BYTES = 1 << 20;
const DEFAULT_PAGE_SIZE = 100;
/** MESH message ids are like `20200529155357895317_3573F8`; anything else in a listing is refused. */
const MESSAGE_ID = /^[A-Za-z0-9_.-]{1,100}$/;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Bytes of body seen (may exceed `body.length` once over the limit). */
  seen: number;
  /** The body went past the limit: reading stopped there and the connection was dropped. */
  over: boolean;
}

/**
 * A client of the MESH API (as NHSDigital/mesh-sandbox implements it), written for Stork because the one on npm
 * corrupts chunked gzip downloads and turns TLS verification off. Every call: the NHSMESH header (a fresh nonce),
 * a timeout, the caller's abort signal, and a bounded body. TLS verification is always on; the client
 * certificate, key and CA come from the feed's configuration.
 */
export class MeshClient implements MeshMailbox {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly mailboxPath: string;

  constructor(private readonly o: MeshClientOptions) {
    this.base = new URL(o.baseUrl);
    this.mailboxPath = `${this.base.pathname.replace(/\/+$/, '')}/messageexchange/${encodeURIComponent(o.credentials.mailbox)}`;
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 2,
            ...(o.tls?.cert ? { cert: o.tls.cert } : {}),
            ...(o.tls?.key ? { key: o.tls.key } : {}),
            ...(o.tls?.ca ? { ca: o.tls.ca } : {}),
            rejectUnauthorized: true,
          })
        : new http.Agent({ keepAlive: true, maxSockets: 2 });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  async handshake(signal: AbortSignal): Promise<void> {
    const a = await this.call('POST', '', signal, MAX_JSON_BYTES, {
      accept: MESH_V2,
      'mex-clientversion': this.o.clientVersion,
      'mex-osname': os.type(),
      'mex-osversion': os.release(),
      'content-length': '0',
    });
    this.expect(a, 'handshake', [200]);
  }

  async listInbox(workflowId: string, continueFrom: string | undefined, signal: AbortSignal): Promise<MeshInboxPage> {
    const query = new URLSearchParams({ max_results: String(this.o.pageSize ?? DEFAULT_PAGE_SIZE), workflow_filter: workflowId });
    if (continueFrom !== undefined) query.set('continue_from', continueFrom);
    const a = await this.call('GET', `/inbox?${query.toString()}`, signal, MAX_JSON_BYTES, { accept: MESH_V2 });
    this.expect(a, 'inbox listing', [200]);
    if (a.over) throw new MeshError('protocol', `MESH inbox listing is larger than ${MAX_JSON_BYTES} bytes`, a.status);
    let parsed: unknown;
    try {
      parsed = JSON.parse(a.body.toString('utf8'));
    } catch (err) {
      throw new MeshError('protocol', 'MESH inbox listing is not JSON', a.status, { cause: err });
    }
    const listing = parsed as { messages?: unknown; links?: { next?: unknown } } | null;
    const ids = listing?.messages;
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string' && MESSAGE_ID.test(id)))
      throw new MeshError('protocol', 'MESH inbox listing has no list of valid message ids', a.status);
    const next = listing?.links?.next;
    // Only the continuation token is taken from the next link: requests never go where a listing points.
    let token: string | undefined;
    if (typeof next === 'string') {
      token = new URL(next, this.base).searchParams.get('continue_from') ?? undefined;
      if (token === undefined || token === continueFrom)
        throw new MeshError('protocol', 'MESH inbox listing has a next link without a new continue_from', a.status);
    }
    return { messageIds: ids, ...(token !== undefined ? { continueFrom: token } : {}) };
  }

  async download(messageId: string, signal: AbortSignal): Promise<MeshDownload> {
    const limit = this.o.maxMessageBytes;
    const path = `/inbox/${encodeURIComponent(messageId)}`;
    const first = await this.call('GET', path, signal, limit, { accept: MESH_V2, 'accept-encoding': 'gzip' });
    if (first.status === 404 || first.status === 410) return { kind: 'gone', status: first.status };
    this.expect(first, 'download', [200, 206]);
    const workflowId = header(first, 'mex-workflowid');
    const encoding = this.encodingOf(first);
    const total = first.status === 200 ? 1 : this.totalChunks(first, 1);
    const raw: Buffer[] = [first.body];
    let wire = first.seen;
    let chunks = 1;
    let over: 'bytes' | 'chunks' | undefined = first.over ? 'bytes' : total > this.o.maxChunks ? 'chunks' : undefined;
    for (let n = 2; n <= total && over === undefined; n++) {
      const a = await this.call('GET', `${path}/${n}`, signal, limit - wire, { accept: MESH_V2, 'accept-encoding': 'gzip' });
      this.expect(a, `download of chunk ${n}`, [200, 206]);
      if (this.totalChunks(a, n) !== total) throw new MeshError('protocol', `MESH chunk ${n} names another number of chunks`, a.status);
      if (this.encodingOf(a) !== encoding) throw new MeshError('protocol', `MESH chunk ${n} has another content encoding`, a.status);
      raw.push(a.body);
      wire += a.seen;
      chunks = n;
      if (a.over) over = 'bytes';
    }
    const joined = Buffer.concat(raw);
    // Chunks of a gzip message are pieces of one gzip stream, or gzip members of their own: one gunzip reads both.
    const unpacked =
      encoding === 'gzip' ? await gunzipBounded(joined, limit, over === undefined) : { bytes: joined, seen: wire, over: false };
    if (unpacked.over) over ??= 'bytes';
    const base = { ...(workflowId !== undefined ? { workflowId } : {}), chunks };
    if (over !== undefined)
      return {
        kind: 'oversize',
        head: unpacked.bytes.subarray(0, limit),
        sizeBytes: Math.max(wire, unpacked.seen),
        limitBytes: limit,
        totalChunks: total,
        maxChunks: this.o.maxChunks,
        why: over,
        ...base,
      };
    return { kind: 'message', bytes: unpacked.bytes, ...base };
  }

  async acknowledge(messageId: string, signal: AbortSignal): Promise<void> {
    const a = await this.call('PUT', `/inbox/${encodeURIComponent(messageId)}/status/acknowledged`, signal, MAX_JSON_BYTES, {
      accept: MESH_V2,
      'content-length': '0',
    });
    // 410: acknowledged already (another process polling the same mailbox); 404: gone. Either way it has left the inbox.
    if (a.status === 404 || a.status === 410) return;
    this.expect(a, 'acknowledgement', [200]);
  }

  /** Content-Encoding: none or gzip (what MESH sends); anything else breaks the API. */
  private encodingOf(a: Answer): 'gzip' | 'identity' {
    const value = (header(a, 'content-encoding') ?? 'identity').trim().toLowerCase();
    if (value === 'gzip' || value === 'identity' || value === '') return value === 'gzip' ? 'gzip' : 'identity';
    throw new MeshError('protocol', 'MESH message has a content encoding other than gzip', a.status);
  }

  /** The number of chunks, from `mex-Chunk-Range: n:N` (which must name chunk `n`) or `mex-Total-Chunks`. */
  private totalChunks(a: Answer, n: number): number {
    const range = /^\s*(\d{1,9}):(\d{1,9})\s*$/.exec(header(a, 'mex-chunk-range') ?? '');
    const totalHeader = header(a, 'mex-total-chunks');
    const total = range ? Number(range[2]) : totalHeader !== undefined && /^\d{1,9}$/.test(totalHeader.trim()) ? Number(totalHeader) : NaN;
    if (range && Number(range[1]) !== n) throw new MeshError('protocol', `MESH answered chunk ${range[1]} for chunk ${n}`, a.status);
    if (!Number.isInteger(total) || total < n || (a.status === 206 && total < 2))
      throw new MeshError('protocol', 'MESH chunked message without a valid chunk range', a.status);
    return total;
  }

  private expect(a: Answer, what: string, ok: readonly number[]): void {
    if (ok.includes(a.status)) return;
    if (a.status === 401 || a.status === 403)
      throw new MeshError('auth', `MESH refused the mailbox's credentials (${what}, HTTP ${a.status})`, a.status);
    if (a.status >= 500 || a.status === 429) throw new MeshError('server', `MESH ${what} failed (HTTP ${a.status})`, a.status);
    throw new MeshError('protocol', `MESH ${what} answered HTTP ${a.status}`, a.status);
  }

  /** One HTTP call; reads at most `limit` bytes of the body, then drops the connection. */
  private call(method: string, suffix: string, signal: AbortSignal, limit: number, headers: Record<string, string>): Promise<Answer> {
    const url = new URL(`${this.mailboxPath}${suffix}`, this.base);
    const transport = url.protocol === 'https:' ? https : http;
    // One controller per call, aborted by the timeout or by the caller (Stork stopping); both let go when it ends.
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.o.requestTimeoutMs);
    const onStop = (): void => abort.abort();
    signal.addEventListener('abort', onStop, { once: true });
    if (signal.aborted) abort.abort();
    const release = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
    };
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        release();
        if (signal.aborted) reject(new MeshError('aborted', 'stopped', undefined, { cause: err }));
        else if (timedOut)
          reject(new MeshError('timeout', `MESH call took longer than ${this.o.requestTimeoutMs} ms`, undefined, { cause: err }));
        else reject(new MeshError('network', 'MESH cannot be reached', undefined, { cause: err }));
      };
      const req = transport.request(
        url,
        {
          method,
          agent: this.agent,
          signal: abort.signal,
          headers: { ...headers, authorization: meshAuthorization(this.o.credentials) },
        },
        (res) => {
          const parts: Buffer[] = [];
          let seen = 0;
          const done = (over: boolean): void => {
            if (settled) return;
            settled = true;
            release();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), seen, over });
          };
          res.on('data', (chunk: Buffer) => {
            if (settled) return;
            const room = limit - seen;
            seen += chunk.length;
            if (chunk.length > room) {
              parts.push(chunk.subarray(0, Math.max(room, 0)));
              done(true);
              req.destroy();
              return;
            }
            parts.push(chunk);
          });
          res.on('end', () => done(false));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end();
    });
  }
}

function header(a: Answer, name: string): string | undefined {
  const v = a.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
