import { Client, type RequestOptions } from 'fhir-kit-client';
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../../src/logger.js';
import type { FhirFetchSettings } from '../../src/pipeline/fhir/fhir-feed.js';
import type { JsonObject } from '../../src/pipeline/fhir/fhir-xml.js';
import { objs, str } from '../../src/pipeline/fhir/json-access.js';
import { FhirFetchError, type FhirServer } from '../../src/ports/fhir-server.js';
import { RateLimiter } from './rate-limiter.js';

export interface FhirKitServerOptions {
  feedId: string;
  settings: FhirFetchSettings;
  /** The bearer token (read from the environment variable the feed names). */
  token?: string;
  logger: Logger;
  /** Waits between retries (tests pass a quicker one); default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * A feed's FHIR server through fhir-kit-client. fhir-kit-client has no timeout, no retry and no size limit of
 * its own, and its `nextPage` follows any absolute URL with our Authorization header, so each call here is:
 * rate limited (token bucket, `ratePerSecond`); bounded in time (AbortSignal.timeout, headers and body) and in
 * size (an undici Agent with `maxResponseSize`: a huge or endless body is cut off, never buffered whole);
 * retried on 5xx, 429, timeouts and connection errors with exponential backoff and full jitter; and a `next`
 * link is followed only when its origin and path are under the configured base URL (anything else is refused
 * and logged with the feed and the foreign origin only: never the URL's query, which may hold an NHS number).
 */
export class FhirKitServer implements FhirServer {
  readonly baseUrl: string;
  private readonly client: Client;
  private readonly agent: Agent;
  private readonly limiter: RateLimiter;
  private readonly origin: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly o: FhirKitServerOptions) {
    this.baseUrl = o.settings.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.agent = new Agent({
      // A backstop: each request's own guard (sizeGuard) cuts the body off at maxResponseBytes and says so.
      maxResponseSize: o.settings.maxResponseBytes * 2,
      headersTimeout: o.settings.timeoutMs,
      bodyTimeout: o.settings.timeoutMs,
      connect: { timeout: o.settings.timeoutMs },
      connections: 4,
    });
    this.client = new Client({
      baseUrl: this.baseUrl,
      ...(o.token !== undefined ? { bearerToken: o.token } : {}),
    });
    this.limiter = new RateLimiter(o.settings.ratePerSecond);
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
  }

  read(resourceType: string, id: string): Promise<JsonObject> {
    return this.call(`read ${resourceType}`, (options) => this.client.read({ resourceType, id, options }));
  }

  search(resourceType: string, params: Record<string, string>): Promise<JsonObject> {
    return this.call(`search ${resourceType}`, (options) => this.client.search({ resourceType, searchParams: params, options }));
  }

  async nextPage(bundle: JsonObject): Promise<JsonObject | undefined> {
    const next = str(objs(bundle.link).find((l) => l.relation === 'next')?.url);
    if (next === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(next, `${this.baseUrl}/`);
    } catch {
      throw new FhirFetchError('refused', 'next link is not a URL');
    }
    if (url.origin !== this.origin || !`${url.pathname}/`.startsWith(`${new URL(this.baseUrl).pathname.replace(/\/+$/, '')}/`)) {
      this.o.logger.warn(
        { feed: this.o.feedId, origin: url.origin === 'null' ? url.protocol : url.origin },
        'FHIR server gave a next link outside its base URL: not followed',
      );
      throw new FhirFetchError('refused', 'next link outside the configured FHIR server');
    }
    // Absolute and checked: fhir-kit-client follows it as given (with our headers), so only a checked URL reaches it.
    const checked = { ...bundle, link: [{ relation: 'next', url: url.href }] };
    return this.call('next page', async (options) => {
      const page = await this.client.nextPage({ bundle: checked as never, options });
      return page ?? {};
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** One request with the rate limit, the time limit and the retries; throws FhirFetchError. */
  private async call(what: string, request: (options: RequestOptions) => Promise<unknown>): Promise<JsonObject> {
    const { retries, retryBaseMs, timeoutMs, maxResponseBytes } = this.o.settings;
    for (let attempt = 0; ; attempt++) {
      await this.limiter.take();
      let failure: FhirFetchError;
      const guard = { exceeded: false };
      try {
        // fhir-kit-client hands options other than signal and headers to fetch: the dispatcher is this request's guard.
        const options: RequestOptions = { signal: AbortSignal.timeout(timeoutMs) };
        Object.assign(options, { dispatcher: sizeGuard(this.agent, maxResponseBytes, guard) });
        const result = await request(options);
        if (
          typeof result !== 'object' ||
          result === null ||
          Array.isArray(result) ||
          typeof (result as JsonObject).resourceType !== 'string'
        )
          throw new FhirFetchError('refused', 'the answer is not a FHIR resource');
        return result as JsonObject;
      } catch (err) {
        failure = guard.exceeded
          ? new FhirFetchError('too-large', 'the answer is over the size limit', undefined, { cause: err })
          : classify(err);
      }
      if (failure.failure !== 'unavailable' || attempt >= retries) {
        this.o.logger.warn(
          { feed: this.o.feedId, request: what, failure: failure.failure, status: failure.httpStatus, attempts: attempt + 1 },
          'FHIR server request failed',
        );
        throw failure;
      }
      // Exponential backoff with full jitter: a server recovering is not hit by every feed at once.
      const delay = Math.round(this.random() * retryBaseMs * 2 ** attempt);
      this.o.logger.debug(
        { feed: this.o.feedId, request: what, status: failure.httpStatus, attempt: attempt + 1, delay },
        'FHIR server request retried',
      );
      await this.sleep(delay);
    }
  }
}

/**
 * A dispatcher for one request: the agent's, with the response body counted as it arrives; past `max` bytes the
 * request is aborted (the body is never held whole) and `guard.exceeded` says why.
 */
function sizeGuard(agent: Agent, max: number, guard: { exceeded: boolean }): Pick<Dispatcher, 'dispatch'> {
  return {
    dispatch(opts, handler) {
      let received = 0;
      const counted = new Proxy(handler, {
        get(target, prop, receiver) {
          if (prop === 'onData')
            return (chunk: Buffer): boolean | undefined => {
              received += chunk.length;
              if (received > max) {
                guard.exceeded = true;
                throw new Error('response over the size limit');
              }
              return target.onData?.(chunk);
            };
          const value: unknown = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      return agent.dispatch(opts, counted);
    },
  };
}

/** What a failed fhir-kit-client call means: its HTTP status (`.response.status`), or the transport's error code. */
function classify(err: unknown): FhirFetchError {
  if (err instanceof FhirFetchError) return err;
  const status = (err as { response?: { status?: unknown } } | null)?.response?.status;
  if (typeof status === 'number') {
    if (status === 404 || status === 410) return new FhirFetchError('not-found', `HTTP ${status}`, status);
    if (status === 429 || status >= 500) return new FhirFetchError('unavailable', `HTTP ${status}`, status);
    if (status >= 200 && status < 300) return new FhirFetchError('refused', 'the answer is not JSON', status);
    return new FhirFetchError('refused', `HTTP ${status}`, status);
  }
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE')
      return new FhirFetchError('too-large', 'the answer is over the size limit', undefined, { cause: err });
  }
  return new FhirFetchError('unavailable', 'no answer (timeout or connection error)', undefined, { cause: err });
}
