import type { JsonObject } from '../pipeline/fhir/fhir-xml.js';

/**
 * Why a request to a feed's FHIR server failed, after its own retries: `not-found` (404/410: the resource is not
 * there), `refused` (another 4xx, a `next` link to another origin, a body that is not a FHIR resource: asking again
 * will not help), `too-large` (over the response size limit), `unavailable` (5xx, 429, timeouts, connection errors,
 * retried with backoff and still failing: worth another try later).
 */
export type FhirFetchFailure = 'not-found' | 'refused' | 'too-large' | 'unavailable';

export class FhirFetchError extends Error {
  constructor(
    readonly failure: FhirFetchFailure,
    message: string,
    readonly httpStatus?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FhirFetchError';
  }
}

/** One feed's FHIR server, as the fetch and the poller use it: every call bounded in time and size, retried, rate limited. */
export interface FhirServer {
  /** The server's base URL (what fullUrls are made from). */
  readonly baseUrl: string;
  read(resourceType: string, id: string): Promise<JsonObject>;
  /** The first page of a search (a searchset Bundle). */
  search(resourceType: string, params: Record<string, string>): Promise<JsonObject>;
  /** The page `link[next]` names, or undefined at the end; a link to another origin is refused (FhirFetchError 'refused'). */
  nextPage(bundle: JsonObject): Promise<JsonObject | undefined>;
  close(): Promise<void>;
}
