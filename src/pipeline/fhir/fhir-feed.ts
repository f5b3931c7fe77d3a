import type { BackfillMode } from '../hl7v2/map-outcome.js';

/**
 * A FHIR R4 messaging feed (`"kind": "fhir"` in feeds.json): bundles posted to `$process-message` by one API
 * client. The message names its sender in MessageHeader.source.endpoint; only `apiClient` may send for it.
 */
export interface FhirFeedConfig {
  id: string;
  kind: 'fhir';
  name: string;
  /** MessageHeader.source.endpoint of this feed's messages (unique among FHIR feeds). */
  sourceEndpoint: string;
  /** The API client (api-clients.json, role feed, scope = this feed's id) allowed to send for this feed. */
  apiClient: string;
  /** The mapping in `mappings/fhir/` that reads this feed. */
  mapping: string;
  /** As for HL7 v2 feeds; the message time is Bundle.timestamp. */
  backfill?: BackfillMode;
  /** Event, then fetch, and polling: the feed's FHIR server Stork reads births from (issue 10 item 4). */
  fetch?: FhirFetchSettings;
  /** Source addresses its client may post from (addresses or CIDR ranges); absent = any. */
  sourceAddresses?: string[];
}

/**
 * How Stork reads a FHIR feed's own server: after a signal event (POST /v1/events) and, with `poll`, by searching
 * it on a timer. Every request is bounded (`timeoutMs`, `maxResponseBytes`), retried (`retries`, exponential backoff
 * from `retryBaseMs` with jitter) and rate limited (`ratePerSecond`); `next` links are followed only on the
 * origin of `baseUrl`. The bearer token is never in the file: `tokenEnv` names the environment variable holding it.
 */
export interface FhirFetchSettings {
  /** The FHIR R4 base URL, e.g. `https://fhir.northgate.example/R4`. */
  baseUrl: string;
  /** Environment variable holding the bearer token (must start with `STORK_FHIR_TOKEN_`); absent: no Authorization header. */
  tokenEnv?: string;
  ratePerSecond: number;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  maxResponseBytes: number;
  /** Pages followed in one search (a server paging for ever is cut off here). */
  maxPages: number;
  /** Related resources (RelatedPerson, Observation, mother) fetched for one baby, at most. */
  maxRelated: number;
  /** Absent: no poller for this feed (events only). */
  poll?: FhirPollSettings;
}

export interface FhirPollSettings {
  intervalMs: number;
  /** Babies born on or after this: `YYYY-MM-DD`, or `P<n>D` (n days before today, London time). */
  since: string;
  /** `_count` asked for per page. */
  pageSize: number;
}

/**
 * A feed of NHS national birth notifications (`"kind": "nems"` in feeds.json): FHIR STU3 PDS birth notification
 * event messages, delivered by MESH (a NEMS subscription's mailbox) or posted to `$process-message` by the
 * feed's one API client. The national publisher is the sender whatever MessageHeader.source.endpoint says, so the
 * feed is the one the caller names (the mailbox's, or the API client's), never looked up from the message.
 */
export interface NemsFeedConfig {
  id: string;
  kind: 'nems';
  name: string;
  /** The API client (api-clients.json, role feed, scope = this feed's id) allowed to post for this feed. */
  apiClient: string;
  /** The mapping in `mappings/fhir/` that reads this feed (it must have a `nems` section). */
  mapping: string;
  /** As for HL7 v2 feeds; the message time is MessageHeader.timestamp. */
  backfill?: BackfillMode;
  /** The MESH mailbox this feed's notifications arrive in (NEMS subscription); absent: HTTP only. */
  mesh?: MeshMailboxConfig;
  /** Source addresses its client may post from over HTTP (addresses or CIDR ranges); absent = any. */
  sourceAddresses?: string[];
}

/**
 * A MESH mailbox as feeds.json describes it (`mesh` of a NEMS feed). Secrets are never in the file: it names the
 * environment variables that hold them. TLS file paths are relative to the configuration directory.
 */
export interface MeshMailboxConfig {
  /** Base URL of the MESH API, e.g. https://msg.intspineservices.nhs.uk (http only for a loopback host). */
  url: string;
  /** The mailbox id (MESH calls it the mailbox; also the first part of the NHSMESH header). */
  mailbox: string;
  /** Environment variable holding the mailbox password. */
  passwordEnv: string;
  /** Environment variable holding the MESH environment's shared HMAC key. */
  sharedKeyEnv: string;
  /** Workflow ids taken from the inbox; messages of other workflows are left alone. */
  workflowIds: string[];
  /** Milliseconds between polls (after a failure, the wait doubles up to 16 times this). */
  pollIntervalMs: number;
  /** Largest number of chunks read of one message; a longer one is kept truncated and quarantined. */
  maxChunks?: number;
  /** Milliseconds each MESH call may take. */
  requestTimeoutMs?: number;
  /** Client certificate, its key and the CA that signs the MESH server's certificate (PEM files). */
  tls?: { certFile?: string; keyFile?: string; caFile?: string };
}
