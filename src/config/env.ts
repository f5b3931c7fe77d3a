import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { compile, describeErrors } from '../domain/json-schema.js';
import { ConfigError } from '../domain/config-error.js';

/** The processes a Stork instance runs; a deployment may split them across machines. */
export type Role = 'intake' | 'worker';

/** `host:port` of a Redis server: a cluster's seed node or a sentinel. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/**
 * Where Stork's Redis is (STORK_REDIS_MODE): one server (`REDIS_URL`, the default), a Redis Cluster (its seed nodes;
 * the rest are discovered) or a master watched by Redis Sentinel (the sentinels and the master's name). A password and
 * TLS of cluster nodes and sentinel-managed servers come from their own settings; a single server's from its URL.
 * Passwords are functions, read when connecting, so they never sit in what the settings would print.
 */
export type RedisSettings =
  | { readonly mode: 'single'; readonly url: string }
  | { readonly mode: 'cluster'; readonly nodes: readonly RedisNode[]; readonly password?: () => string; readonly tls: boolean }
  | {
      readonly mode: 'sentinel';
      readonly sentinels: readonly RedisNode[];
      readonly masterName: string;
      readonly password?: () => string;
      readonly sentinelPassword?: () => string;
      readonly tls: boolean;
    };

/** Settings read from the environment: the only place in Stork that reads `process.env`. */
export interface EnvConfig {
  httpPort: number;
  mllpPort: number;
  /** Address the listeners bind to. */
  host: string;
  /** Redis: one server, a cluster or a sentinel-managed master (queue keys are hash-tagged on a cluster). */
  redis: RedisSettings;
  /** PostgreSQL connection string; absent = embedded PGlite under `dataDir`. */
  databaseUrl?: string;
  /**
   * PostgreSQL connection string of the schema's owner, used only at start-up to migrate and to grant the role of
   * `databaseUrl` what it needs; absent = migrations run through `databaseUrl` (which then owns the schema).
   */
  migrationDatabaseUrl?: string;
  dataDir: string;
  configDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  roles: Role[];
  /** Largest MLLP frame accepted, in bytes. */
  mllpMaxMessageBytes: number;
  /** A connection with no traffic for this long is closed. */
  mllpIdleTimeoutMs: number;
  /** A frame begun must end within this long, however slowly its bytes trickle in; past it the connection is closed. */
  mllpFrameTimeoutMs: number;
  /** MLLP connections open at once; more are refused. */
  mllpMaxConnections: number;
  /** MLLP connections open at once from one source address; more are refused. */
  mllpMaxConnectionsPerAddress: number;
  /** Bytes of unfinished MLLP frames held across all connections; past it, the connections holding a partial frame longest are closed. */
  mllpMaxBufferedBytes: number;
  /** Segments in one HL7 v2 message (MLLP and HTTP); more is refused with AR. */
  hl7MaxSegments: number;
  /** Repetitions of one field in one HL7 v2 message (MLLP and HTTP); more is refused with AR. */
  hl7MaxRepetitions: number;
  /** Prefix of every BullMQ queue name, so several hubs or test runs can share one Redis. */
  queuePrefix: string;
  workerConcurrency: number;
  /** How long a worker's lock on a job lasts; a job whose worker died is retried once it lapses. */
  jobLockMs: number;
  /** PostgreSQL connections of the HTTP API's own pool (intake and the workers have theirs). */
  apiDbConnections: number;
  /** Requests one API client may have in progress at once; more are answered 429 with Retry-After. */
  apiClientConcurrency: number;
  /** Requests a second one HTTP client (API key, else source address) may make on average, in bursts of `httpRateBurst`; more are answered 429 with Retry-After. */
  httpRatePerSecond: number;
  httpRateBurst: number;
  /** An HTTP request's headers must all arrive within this long, … */
  httpHeadersTimeoutMs: number;
  /** … and the whole request (headers and body) within this long; otherwise 408 and the connection is closed. */
  httpRequestTimeoutMs: number;
  /** An idle keep-alive HTTP connection is closed after this long. */
  httpKeepAliveTimeoutMs: number;
  /** Workers look this often for messages stored as queued whose job never reached Redis, and queue those older than this again. */
  recoverySweepMs: number;
  /** How often a worker looks for stored signal events whose record is due to be fetched (it also looks at once when one arrives in its process). */
  eventFetchIntervalMs: number;
  /** How often a worker looks whether the London date changed, to decide again what consent periods starting or ending change. */
  consentPeriodsMs: number;
  /** Attempts to fetch an event's record from a failing (or not yet knowing) FHIR server before the event is given up. */
  eventFetchMaxAttempts: number;
  /** MLLP over TLS: the server certificate and key files (PEM), and the CA file whose client certificates are required (absent: no client certificate asked). Absent: plain MLLP. */
  mllpTls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** HTTPS for the HTTP listener: certificate and key files (PEM). Absent: plain HTTP (the quick start). */
  httpTls?: { certFile: string; keyFile: string };
  /** Where people reach Stork (the web app's sign-in redirect is `<publicUrl>/app/auth/callback`); absent = `http://127.0.0.1:<HTTP port>`. */
  publicUrl?: string;
  /** The web app's OpenID Connect client secret (never in a file). */
  oidcClientSecret?: string;
  /** PEM file of the Ed25519 private key that signs audit checkpoints; absent = the sample configuration's demo key, if present. */
  auditSigningKeyFile?: string;
  /** PEM files of the public keys of earlier signing keys, so checkpoints they signed still verify (key rotation). */
  auditPublicKeyFiles: string[];
  /**
   * Files of the AES-256 data keys that encrypt message bytes, ACKs and identifiable records at rest (src/config/data-keys.ts): the first
   * encrypts, all decrypt. Empty: the sample configuration's demo key, if present, else no encryption.
   */
  dataKeyFiles: string[];
  /** A signed checkpoint of the audit chain after this many events … */
  auditCheckpointEvents: number;
  /** … or after this long (ms), whichever comes first (and at least this often, events or not). */
  auditCheckpointMs: number;
  /** Run the local OpenID provider with the demo users of `web-app.json` (quick start and tests only). */
  localOidc: boolean;
  /** Its port on 127.0.0.1 (0 = any free port). */
  localOidcPort: number;
  /**
   * A secret named in a data file by its environment variable (a MESH mailbox's password and shared key, a FHIR
   * server's bearer token, `STORK_FHIR_TOKEN_…`): read
   * from the same environment as the settings, only when asked, so it never sits in the settings or a log line.
   */
  secret: (variable: string) => string | undefined;
  /** Webhooks (issue 15): a receiver's answer is awaited this long (connect to last byte). */
  webhookTimeoutMs: number;
  /** The first retry of a failed webhook waits about this long, each next about twice as long (with jitter) … */
  webhookBackoffMs: number;
  /** … never longer than this. */
  webhookBackoffMaxMs: number;
  /** A webhook still failing once its next retry would start this long after its first try becomes a dead letter. */
  webhookHorizonMs: number;
  /** How often a worker looks for inbox events (deliveries, withdrawals) to push to webhooks. */
  webhookSweepMs: number;
  /** How far back the first look after start-up goes: older inbox events are not pushed. */
  webhookLookbackMs: number;
  /** Webhook requests in flight at once per centre (per worker process). */
  webhookConcurrency: number;
}

/** The repository root, where the sample configuration lives. */
export const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  ...(import.meta.url.includes('/dist/') ? ['..'] : []),
);

interface RawEnv {
  STORK_HTTP_PORT: number;
  STORK_MLLP_PORT: number;
  STORK_HOST: string;
  REDIS_URL: string;
  STORK_REDIS_MODE: RedisSettings['mode'];
  STORK_REDIS_NODES?: string;
  STORK_REDIS_SENTINELS?: string;
  STORK_REDIS_SENTINEL_MASTER?: string;
  STORK_REDIS_PASSWORD?: string;
  STORK_REDIS_SENTINEL_PASSWORD?: string;
  STORK_REDIS_TLS: 'on' | 'off';
  DATABASE_URL?: string;
  STORK_MIGRATION_DATABASE_URL?: string;
  STORK_DATA_DIR: string;
  STORK_CONFIG_DIR: string;
  LOG_LEVEL: EnvConfig['logLevel'];
  STORK_ROLES: string;
  STORK_MLLP_MAX_BYTES: number;
  STORK_MLLP_IDLE_TIMEOUT_MS: number;
  STORK_MLLP_FRAME_TIMEOUT_MS: number;
  STORK_MLLP_MAX_CONNECTIONS: number;
  STORK_MLLP_MAX_CONNECTIONS_PER_ADDRESS: number;
  STORK_MLLP_MAX_BUFFERED_BYTES: number;
  STORK_HL7_MAX_SEGMENTS: number;
  STORK_HL7_MAX_REPETITIONS: number;
  STORK_QUEUE_PREFIX: string;
  STORK_WORKER_CONCURRENCY: number;
  STORK_JOB_LOCK_MS: number;
  STORK_API_DB_CONNECTIONS: number;
  STORK_API_CLIENT_CONCURRENCY: number;
  STORK_HTTP_RATE_PER_SECOND: number;
  STORK_HTTP_RATE_BURST: number;
  STORK_HTTP_HEADERS_TIMEOUT_MS: number;
  STORK_HTTP_REQUEST_TIMEOUT_MS: number;
  STORK_HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  STORK_RECOVERY_SWEEP_MS: number;
  STORK_EVENT_FETCH_INTERVAL_MS: number;
  STORK_CONSENT_PERIODS_MS: number;
  STORK_EVENT_FETCH_MAX_ATTEMPTS: number;
  STORK_PUBLIC_URL?: string;
  STORK_OIDC_CLIENT_SECRET?: string;
  STORK_LOCAL_OIDC: 'on' | 'off';
  STORK_AUDIT_SIGNING_KEY_FILE?: string;
  STORK_AUDIT_PUBLIC_KEY_FILES?: string;
  STORK_MLLP_TLS_CERT_FILE?: string;
  STORK_MLLP_TLS_KEY_FILE?: string;
  STORK_MLLP_TLS_CLIENT_CA_FILE?: string;
  STORK_HTTP_TLS_CERT_FILE?: string;
  STORK_HTTP_TLS_KEY_FILE?: string;
  STORK_AUDIT_CHECKPOINT_EVENTS: number;
  STORK_AUDIT_CHECKPOINT_SECONDS: number;
  STORK_DATA_KEY_FILES?: string;
  STORK_LOCAL_OIDC_PORT: number;
  STORK_WEBHOOK_TIMEOUT_MS: number;
  STORK_WEBHOOK_BACKOFF_MS: number;
  STORK_WEBHOOK_BACKOFF_MAX_MS: number;
  STORK_WEBHOOK_HORIZON_MS: number;
  STORK_WEBHOOK_SWEEP_MS: number;
  STORK_WEBHOOK_LOOKBACK_MS: number;
  STORK_WEBHOOK_CONCURRENCY: number;
}

const port = { type: 'integer', minimum: 0, maximum: 65535 };
/** A comma-separated list of `host:port` (a host name or IPv4 address; no spaces). */
const HOST_PORTS = '^[A-Za-z0-9._-]+:[0-9]{1,5}(,[A-Za-z0-9._-]+:[0-9]{1,5})*$';
const schema = {
  type: 'object',
  properties: {
    STORK_HTTP_PORT: { ...port, default: 8080 },
    STORK_MLLP_PORT: { ...port, default: 2575 },
    STORK_HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
    STORK_REDIS_MODE: { enum: ['single', 'cluster', 'sentinel'], default: 'single' },
    STORK_REDIS_NODES: { type: 'string', pattern: HOST_PORTS },
    STORK_REDIS_SENTINELS: { type: 'string', pattern: HOST_PORTS },
    STORK_REDIS_SENTINEL_MASTER: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
    STORK_REDIS_PASSWORD: { type: 'string', minLength: 1 },
    STORK_REDIS_SENTINEL_PASSWORD: { type: 'string', minLength: 1 },
    STORK_REDIS_TLS: { enum: ['on', 'off'], default: 'off' },
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://' },
    STORK_MIGRATION_DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://' },
    STORK_DATA_DIR: { type: 'string', minLength: 1, default: './data' },
    STORK_CONFIG_DIR: { type: 'string', minLength: 1, default: repoRoot },
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    STORK_ROLES: { type: 'string', pattern: '^(intake|worker)(,(intake|worker))*$', default: 'intake,worker' },
    STORK_MLLP_MAX_BYTES: { type: 'integer', minimum: 1024, default: 1048576 },
    STORK_MLLP_IDLE_TIMEOUT_MS: { type: 'integer', minimum: 1000, default: 300000 },
    STORK_MLLP_FRAME_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 60000 },
    STORK_MLLP_MAX_CONNECTIONS: { type: 'integer', minimum: 1, default: 1000 },
    STORK_MLLP_MAX_CONNECTIONS_PER_ADDRESS: { type: 'integer', minimum: 1, default: 50 },
    STORK_MLLP_MAX_BUFFERED_BYTES: { type: 'integer', minimum: 1024, default: 67108864 },
    STORK_HL7_MAX_SEGMENTS: { type: 'integer', minimum: 1, default: 1000 },
    STORK_HL7_MAX_REPETITIONS: { type: 'integer', minimum: 1, default: 100 },
    STORK_QUEUE_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: 'stork' },
    STORK_WORKER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 1000, default: 8 },
    STORK_JOB_LOCK_MS: { type: 'integer', minimum: 500, default: 30000 },
    STORK_API_DB_CONNECTIONS: { type: 'integer', minimum: 1, maximum: 100, default: 8 },
    STORK_API_CLIENT_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 1000, default: 4 },
    STORK_HTTP_RATE_PER_SECOND: { type: 'integer', minimum: 1, default: 100 },
    STORK_HTTP_RATE_BURST: { type: 'integer', minimum: 1, default: 200 },
    STORK_HTTP_HEADERS_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 20000 },
    STORK_HTTP_REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 120000 },
    STORK_HTTP_KEEP_ALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 5000 },
    STORK_RECOVERY_SWEEP_MS: { type: 'integer', minimum: 100, default: 30000 },
    STORK_EVENT_FETCH_INTERVAL_MS: { type: 'integer', minimum: 10, default: 1000 },
    STORK_CONSENT_PERIODS_MS: { type: 'integer', minimum: 1000, default: 600000 },
    STORK_EVENT_FETCH_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
    STORK_PUBLIC_URL: { type: 'string', pattern: '^https?://[^/?#\\s]+$' },
    STORK_OIDC_CLIENT_SECRET: { type: 'string', minLength: 16 },
    STORK_LOCAL_OIDC: { enum: ['on', 'off'], default: 'off' },
    STORK_LOCAL_OIDC_PORT: { ...port, default: 8081 },
    STORK_AUDIT_SIGNING_KEY_FILE: { type: 'string', minLength: 1 },
    STORK_MLLP_TLS_CERT_FILE: { type: 'string', minLength: 1 },
    STORK_MLLP_TLS_KEY_FILE: { type: 'string', minLength: 1 },
    STORK_MLLP_TLS_CLIENT_CA_FILE: { type: 'string', minLength: 1 },
    STORK_HTTP_TLS_CERT_FILE: { type: 'string', minLength: 1 },
    STORK_HTTP_TLS_KEY_FILE: { type: 'string', minLength: 1 },
    STORK_AUDIT_PUBLIC_KEY_FILES: { type: 'string', pattern: '^[^,]+(,[^,]+)*$' },
    STORK_AUDIT_CHECKPOINT_EVENTS: { type: 'integer', minimum: 1, default: 1000 },
    STORK_AUDIT_CHECKPOINT_SECONDS: { type: 'integer', minimum: 1, default: 300 },
    STORK_DATA_KEY_FILES: { type: 'string', pattern: '^[^,]+(,[^,]+)*$' },
    STORK_WEBHOOK_TIMEOUT_MS: { type: 'integer', minimum: 50, maximum: 300000, default: 10000 },
    STORK_WEBHOOK_BACKOFF_MS: { type: 'integer', minimum: 1, default: 1000 },
    STORK_WEBHOOK_BACKOFF_MAX_MS: { type: 'integer', minimum: 1, default: 3600000 },
    STORK_WEBHOOK_HORIZON_MS: { type: 'integer', minimum: 1, default: 86400000 },
    STORK_WEBHOOK_SWEEP_MS: { type: 'integer', minimum: 20, default: 2000 },
    STORK_WEBHOOK_LOOKBACK_MS: { type: 'integer', minimum: 0, default: 86400000 },
    STORK_WEBHOOK_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 100, default: 4 },
  },
  required: [],
} as const;

const validate = compile<RawEnv>({ ...schema });
/** Variables of the test suite and benchmark, which share the prefix but are not hub settings. */
const NOT_HUB_SETTINGS = /^STORK_(CORPUS|TEST_|BENCH_)/;
/** FHIR server tokens: any name with this prefix (a feed's `fetch.tokenEnv` names one). */
const FHIR_TOKEN = /^STORK_FHIR_TOKEN_[A-Z0-9_]+$/;
/** Webhook secrets: any name with this prefix (a centre's `delivery.secrets[].env` in catchments.json names one). */
const WEBHOOK_SECRET = /^STORK_WEBHOOK_SECRET_[A-Z0-9_]+$/;
const integerKeys = Object.entries(schema.properties)
  .filter(([, s]) => 'type' in s && s.type === 'integer')
  .map(([k]) => k);

/** A comma-separated list of files (a `…_FILES` setting), each resolved; empty when unset. */
export function fileList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .filter((f) => f.trim() !== '')
    .map((f) => path.resolve(f.trim()));
}

/**
 * Reads and validates Stork's settings. Every problem is listed at once, so an operator fixes them in one go.
 * Unknown `STORK_*` variables are reported too: a typo must not silently fall back to a default.
 */
export function loadEnvConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value === undefined || value === '') {
      const fallback = (schema.properties as Record<string, { default?: unknown }>)[key]?.default;
      if (fallback !== undefined) raw[key] = fallback;
      continue;
    }
    if (integerKeys.includes(key)) {
      const n = Number(value);
      raw[key] = /^\s*-?\d+\s*$/.test(value) ? n : value;
    } else raw[key] = value;
  }
  for (const key of Object.keys(env)) {
    if (
      key.startsWith('STORK_') &&
      !(key in schema.properties) &&
      !NOT_HUB_SETTINGS.test(key) &&
      !FHIR_TOKEN.test(key) &&
      !WEBHOOK_SECRET.test(key)
    ) {
      problems.push(
        `${key}: unknown setting (known: ${Object.keys(schema.properties)
          .filter((k) => k.startsWith('STORK_'))
          .join(', ')})`,
      );
    }
  }
  if (!validate(raw)) {
    for (const p of describeErrors(validate.errors)) problems.push(p.replace(/^field \/(\w+)/, '$1'));
  } else if (raw.STORK_MLLP_MAX_BUFFERED_BYTES < raw.STORK_MLLP_MAX_BYTES) {
    problems.push('STORK_MLLP_MAX_BUFFERED_BYTES: must be at least STORK_MLLP_MAX_BYTES, so that one whole message can be received');
  }
  problems.push(...redisProblems(raw, env));
  if (raw.STORK_MIGRATION_DATABASE_URL !== undefined && raw.DATABASE_URL === undefined) {
    problems.push('STORK_MIGRATION_DATABASE_URL: needs DATABASE_URL (the embedded store has one user and no separate owner)');
  }
  for (const [a, b] of [
    ['STORK_MLLP_TLS_CERT_FILE', 'STORK_MLLP_TLS_KEY_FILE'],
    ['STORK_HTTP_TLS_CERT_FILE', 'STORK_HTTP_TLS_KEY_FILE'],
  ] as const)
    if ((raw[a] === undefined) !== (raw[b] === undefined)) problems.push(`${a}: goes with ${b} (the certificate and its private key)`);
  if (raw.STORK_MLLP_TLS_CLIENT_CA_FILE !== undefined && raw.STORK_MLLP_TLS_CERT_FILE === undefined)
    problems.push(
      'STORK_MLLP_TLS_CLIENT_CA_FILE: needs STORK_MLLP_TLS_CERT_FILE and STORK_MLLP_TLS_KEY_FILE (client certificates need TLS)',
    );
  if (problems.length > 0) {
    throw new ConfigError(`Invalid environment:\n  ${problems.join('\n  ')}`, problems);
  }
  const r = raw as unknown as RawEnv;
  const config: EnvConfig = {
    httpPort: r.STORK_HTTP_PORT,
    mllpPort: r.STORK_MLLP_PORT,
    host: r.STORK_HOST,
    redis: redisSettings(r),
    dataDir: path.resolve(r.STORK_DATA_DIR),
    configDir: path.resolve(r.STORK_CONFIG_DIR),
    logLevel: r.LOG_LEVEL,
    roles: [...new Set(r.STORK_ROLES.split(',') as Role[])],
    mllpMaxMessageBytes: r.STORK_MLLP_MAX_BYTES,
    mllpIdleTimeoutMs: r.STORK_MLLP_IDLE_TIMEOUT_MS,
    mllpFrameTimeoutMs: r.STORK_MLLP_FRAME_TIMEOUT_MS,
    mllpMaxConnections: r.STORK_MLLP_MAX_CONNECTIONS,
    mllpMaxConnectionsPerAddress: r.STORK_MLLP_MAX_CONNECTIONS_PER_ADDRESS,
    mllpMaxBufferedBytes: r.STORK_MLLP_MAX_BUFFERED_BYTES,
    hl7MaxSegments: r.STORK_HL7_MAX_SEGMENTS,
    hl7MaxRepetitions: r.STORK_HL7_MAX_REPETITIONS,
    queuePrefix: r.STORK_QUEUE_PREFIX,
    workerConcurrency: r.STORK_WORKER_CONCURRENCY,
    jobLockMs: r.STORK_JOB_LOCK_MS,
    apiDbConnections: r.STORK_API_DB_CONNECTIONS,
    apiClientConcurrency: r.STORK_API_CLIENT_CONCURRENCY,
    httpRatePerSecond: r.STORK_HTTP_RATE_PER_SECOND,
    httpRateBurst: r.STORK_HTTP_RATE_BURST,
    httpHeadersTimeoutMs: r.STORK_HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: r.STORK_HTTP_REQUEST_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: r.STORK_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    recoverySweepMs: r.STORK_RECOVERY_SWEEP_MS,
    eventFetchIntervalMs: r.STORK_EVENT_FETCH_INTERVAL_MS,
    consentPeriodsMs: r.STORK_CONSENT_PERIODS_MS,
    eventFetchMaxAttempts: r.STORK_EVENT_FETCH_MAX_ATTEMPTS,
    auditPublicKeyFiles: fileList(r.STORK_AUDIT_PUBLIC_KEY_FILES),
    dataKeyFiles: fileList(r.STORK_DATA_KEY_FILES),
    auditCheckpointEvents: r.STORK_AUDIT_CHECKPOINT_EVENTS,
    auditCheckpointMs: r.STORK_AUDIT_CHECKPOINT_SECONDS * 1000,
    localOidc: r.STORK_LOCAL_OIDC === 'on',
    localOidcPort: r.STORK_LOCAL_OIDC_PORT,
    webhookTimeoutMs: r.STORK_WEBHOOK_TIMEOUT_MS,
    webhookBackoffMs: r.STORK_WEBHOOK_BACKOFF_MS,
    webhookBackoffMaxMs: r.STORK_WEBHOOK_BACKOFF_MAX_MS,
    webhookHorizonMs: r.STORK_WEBHOOK_HORIZON_MS,
    webhookSweepMs: r.STORK_WEBHOOK_SWEEP_MS,
    webhookLookbackMs: r.STORK_WEBHOOK_LOOKBACK_MS,
    webhookConcurrency: r.STORK_WEBHOOK_CONCURRENCY,
    secret: (variable) => {
      const value = env[variable];
      return value === undefined || value === '' ? undefined : value;
    },
  };
  if (r.STORK_PUBLIC_URL !== undefined) config.publicUrl = r.STORK_PUBLIC_URL;
  if (r.STORK_OIDC_CLIENT_SECRET !== undefined) config.oidcClientSecret = r.STORK_OIDC_CLIENT_SECRET;
  if (r.STORK_AUDIT_SIGNING_KEY_FILE !== undefined) config.auditSigningKeyFile = path.resolve(r.STORK_AUDIT_SIGNING_KEY_FILE);
  if (r.STORK_MLLP_TLS_CERT_FILE !== undefined && r.STORK_MLLP_TLS_KEY_FILE !== undefined)
    config.mllpTls = {
      certFile: path.resolve(r.STORK_MLLP_TLS_CERT_FILE),
      keyFile: path.resolve(r.STORK_MLLP_TLS_KEY_FILE),
      ...(r.STORK_MLLP_TLS_CLIENT_CA_FILE !== undefined ? { clientCaFile: path.resolve(r.STORK_MLLP_TLS_CLIENT_CA_FILE) } : {}),
    };
  if (r.STORK_HTTP_TLS_CERT_FILE !== undefined && r.STORK_HTTP_TLS_KEY_FILE !== undefined)
    config.httpTls = { certFile: path.resolve(r.STORK_HTTP_TLS_CERT_FILE), keyFile: path.resolve(r.STORK_HTTP_TLS_KEY_FILE) };
  if (r.DATABASE_URL !== undefined) config.databaseUrl = r.DATABASE_URL;
  if (r.STORK_MIGRATION_DATABASE_URL !== undefined) config.migrationDatabaseUrl = r.STORK_MIGRATION_DATABASE_URL;
  return config;
}

/** Which Redis settings each mode needs; any other Redis setting given is a mistake (it would be silently ignored). */
const REDIS_MODE_SETTINGS: Record<RedisSettings['mode'], { required: string[]; allowed: string[] }> = {
  single: { required: [], allowed: ['REDIS_URL'] },
  cluster: { required: ['STORK_REDIS_NODES'], allowed: ['STORK_REDIS_NODES', 'STORK_REDIS_PASSWORD', 'STORK_REDIS_TLS'] },
  sentinel: {
    required: ['STORK_REDIS_SENTINELS', 'STORK_REDIS_SENTINEL_MASTER'],
    allowed: [
      'STORK_REDIS_SENTINELS',
      'STORK_REDIS_SENTINEL_MASTER',
      'STORK_REDIS_PASSWORD',
      'STORK_REDIS_SENTINEL_PASSWORD',
      'STORK_REDIS_TLS',
    ],
  },
};
const REDIS_SETTINGS = [...new Set(Object.values(REDIS_MODE_SETTINGS).flatMap((m) => m.allowed))];

function redisProblems(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const mode = raw.STORK_REDIS_MODE;
  if (mode !== 'single' && mode !== 'cluster' && mode !== 'sentinel') return [];
  const { required, allowed } = REDIS_MODE_SETTINGS[mode];
  const given = (key: string): boolean => env[key] !== undefined && env[key] !== '';
  const problems: string[] = [];
  for (const key of required) {
    if (!given(key)) {
      problems.push(
        key === 'STORK_REDIS_NODES'
          ? `${key}: required with STORK_REDIS_MODE=cluster (the cluster's seed nodes, host:port,host:port,...)`
          : key === 'STORK_REDIS_SENTINELS'
            ? `${key}: required with STORK_REDIS_MODE=sentinel (the sentinels, host:port,host:port,...)`
            : `${key}: required with STORK_REDIS_MODE=sentinel (the name of the master the sentinels monitor)`,
      );
    }
  }
  for (const key of REDIS_SETTINGS) {
    if (given(key) && !allowed.includes(key)) {
      problems.push(
        `${key}: not used with STORK_REDIS_MODE=${mode} (${mode} uses ${allowed.join(', ')}${mode === 'single' ? ', whose URL carries any password and TLS (rediss://)' : ''})`,
      );
    }
  }
  for (const key of ['STORK_REDIS_NODES', 'STORK_REDIS_SENTINELS']) {
    const list = raw[key];
    if (typeof list !== 'string') continue;
    const bad = list.split(',').filter((n) => {
      const p = Number(n.slice(n.lastIndexOf(':') + 1));
      return p < 1 || p > 65535;
    });
    if (bad.length > 0) problems.push(`${key}: port out of range (1-65535) in ${bad.join(', ')}`);
  }
  return problems;
}

function redisNodes(list: string): RedisNode[] {
  return list.split(',').map((n) => ({ host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) }));
}

function redisSettings(r: RawEnv): RedisSettings {
  const secret = r.STORK_REDIS_PASSWORD;
  const password = secret !== undefined ? { password: () => secret } : {};
  const tls = r.STORK_REDIS_TLS === 'on';
  if (r.STORK_REDIS_MODE === 'cluster') return { mode: 'cluster', nodes: redisNodes(r.STORK_REDIS_NODES ?? ''), ...password, tls };
  if (r.STORK_REDIS_MODE === 'sentinel') {
    const sentinelSecret = r.STORK_REDIS_SENTINEL_PASSWORD;
    return {
      mode: 'sentinel',
      sentinels: redisNodes(r.STORK_REDIS_SENTINELS ?? ''),
      masterName: r.STORK_REDIS_SENTINEL_MASTER ?? '',
      ...password,
      ...(sentinelSecret !== undefined ? { sentinelPassword: () => sentinelSecret } : {}),
      tls,
    };
  }
  return { mode: 'single', url: r.REDIS_URL };
}
