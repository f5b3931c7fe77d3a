import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { WebhookRequest, WebhookResponse, WebhookSender } from '../../src/ports/webhooks.js';

/** Bytes of a receiver's answer read (and thrown away): its status is the receipt, its body is never kept. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs webhooks over HTTPS with node's client: certificate checked against the system's CAs plus the centre's
 * `caFile` if any, one timeout covering connect to the end of the answer, no redirects followed. A failure is named
 * by kind only (`HTTP 500`, `timeout`, `ECONNREFUSED`, `CERT_HAS_EXPIRED`): never a body, a URL or a header.
 */
export class HttpsWebhookSender implements WebhookSender {
  private readonly inFlight = new Set<() => void>();
  private closed = false;

  /** Ends every request in flight (each answers `aborted`, so its job is retried later) and refuses new ones: for shutdown. */
  close(): void {
    this.closed = true;
    for (const abort of [...this.inFlight]) abort();
  }

  post(req: WebhookRequest): Promise<WebhookResponse> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'aborted' });
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return Promise.resolve({ ok: false, error: 'invalid URL' });
    }
    return new Promise((resolve) => {
      const request = https.request(url, {
        method: 'POST',
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
        ...(req.ca !== undefined ? { ca: [...rootCertificates, req.ca] } : {}),
        agent: false,
      });
      let settled = false;
      const done = (r: WebhookResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(abort);
        resolve(r);
      };
      const abort = (): void => {
        done({ ok: false, error: 'aborted' });
        request.destroy();
      };
      const timer = setTimeout(() => {
        done({ ok: false, error: 'timeout' });
        request.destroy();
      }, req.timeoutMs);
      this.inFlight.add(abort);
      request.on('response', (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_RESPONSE_BYTES) res.destroy();
        });
        const status = res.statusCode ?? 0;
        const answer = (): void => done(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, error: `HTTP ${status}` });
        res.on('end', answer);
        res.on('close', answer);
        res.on('error', answer);
      });
      request.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: safeCode(err) }));
      request.end(req.body);
    });
  }
}

/** An error's code if it looks like one (`ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`), else its class name. */
function safeCode(err: NodeJS.ErrnoException): string {
  return typeof err.code === 'string' && /^[A-Z0-9_]{2,64}$/.test(err.code) ? err.code : err.name;
}
