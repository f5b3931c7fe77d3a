import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEnvConfig, repoRoot } from '../../../src/config/env.js';
import { ConfigError } from '../../../src/domain/config-error.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The ConfigError thrown by loadEnvConfig(env); fails the test when it does not throw one. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadEnvConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadEnvConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const { secret, ...config } = loadEnvConfig({});
    expect(typeof secret).toBe('function');
    expect(config).toEqual({
      httpPort: 8080,
      mllpPort: 2575,
      host: '0.0.0.0',
      redis: { mode: 'single', url: 'redis://127.0.0.1:6379' },
      dataDir: path.resolve(process.cwd(), 'data'),
      configDir: REPO,
      logLevel: 'info',
      roles: ['intake', 'worker'],
      mllpMaxMessageBytes: 1048576,
      mllpIdleTimeoutMs: 300000,
      mllpFrameTimeoutMs: 60000,
      mllpMaxConnections: 1000,
      mllpMaxConnectionsPerAddress: 50,
      mllpMaxBufferedBytes: 67108864,
      hl7MaxSegments: 1000,
      hl7MaxRepetitions: 100,
      queuePrefix: 'stork',
      workerConcurrency: 8,
      jobLockMs: 30000,
      apiDbConnections: 8,
      apiClientConcurrency: 4,
      httpRatePerSecond: 100,
      httpRateBurst: 200,
      httpHeadersTimeoutMs: 20000,
      httpRequestTimeoutMs: 120000,
      httpKeepAliveTimeoutMs: 5000,
      recoverySweepMs: 30000,
      eventFetchIntervalMs: 1000,
      consentPeriodsMs: 600000,
      eventFetchMaxAttempts: 10,
      localOidc: false,
      localOidcPort: 8081,
      auditPublicKeyFiles: [],
      dataKeyFiles: [],
      auditCheckpointEvents: 1000,
      auditCheckpointMs: 300000,
      webhookTimeoutMs: 10000,
      webhookBackoffMs: 1000,
      webhookBackoffMaxMs: 3600000,
      webhookHorizonMs: 86400000,
      webhookSweepMs: 2000,
      webhookLookbackMs: 86400000,
      webhookConcurrency: 4,
    });
    expect('databaseUrl' in config).toBe(false);
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(path.isAbsolute(config.configDir)).toBe(true);
  });

  it('the default config directory is the repository root', () => {
    expect(repoRoot).toBe(REPO);
  });

  it('treats empty strings as unset', () => {
    const config = loadEnvConfig({ STORK_HTTP_PORT: '', REDIS_URL: '', DATABASE_URL: '' });
    expect(config.httpPort).toBe(8080);
    expect(config.redis).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379' });
    expect(config.databaseUrl).toBeUndefined();
  });

  it('applies every override', () => {
    const config = loadEnvConfig({
      STORK_HTTP_PORT: '9090',
      STORK_MLLP_PORT: '0',
      STORK_HOST: '127.0.0.1',
      REDIS_URL: 'rediss://cache.example.org:6380/2',
      DATABASE_URL: 'postgresql://stork:secret@db.example.org:5432/stork',
      STORK_DATA_DIR: '/var/lib/stork',
      STORK_CONFIG_DIR: '/etc/stork/../stork-config',
      LOG_LEVEL: 'debug',
      STORK_ROLES: 'worker',
      STORK_MLLP_MAX_BYTES: '2048',
      STORK_MLLP_IDLE_TIMEOUT_MS: '1000',
      STORK_MLLP_FRAME_TIMEOUT_MS: '800',
      STORK_MLLP_MAX_CONNECTIONS: '20',
      STORK_MLLP_MAX_CONNECTIONS_PER_ADDRESS: '3',
      STORK_MLLP_MAX_BUFFERED_BYTES: '4096',
      STORK_HL7_MAX_SEGMENTS: '50',
      STORK_HL7_MAX_REPETITIONS: '7',
      STORK_QUEUE_PREFIX: 'test_run-7',
      STORK_WORKER_CONCURRENCY: '1000',
      STORK_API_DB_CONNECTIONS: '3',
      STORK_API_CLIENT_CONCURRENCY: '2',
      STORK_HTTP_RATE_PER_SECOND: '7',
      STORK_HTTP_RATE_BURST: '9',
      STORK_HTTP_HEADERS_TIMEOUT_MS: '1100',
      STORK_HTTP_REQUEST_TIMEOUT_MS: '2200',
      STORK_HTTP_KEEP_ALIVE_TIMEOUT_MS: '3300',
      STORK_RECOVERY_SWEEP_MS: '5000',
      STORK_EVENT_FETCH_INTERVAL_MS: '250',
      STORK_CONSENT_PERIODS_MS: '60000',
      STORK_EVENT_FETCH_MAX_ATTEMPTS: '3',
      STORK_FHIR_TOKEN_NORTHGATE: 'token-from-the-environment',
      STORK_PUBLIC_URL: 'https://stork.example.org',
      STORK_OIDC_CLIENT_SECRET: 'a-secret-of-some-length',
      STORK_LOCAL_OIDC: 'on',
      STORK_LOCAL_OIDC_PORT: '0',
      STORK_AUDIT_SIGNING_KEY_FILE: '/etc/stork/audit.pem',
      STORK_AUDIT_PUBLIC_KEY_FILES: '/etc/stork/old-1.pub.pem, /etc/stork/old-2.pub.pem',
      STORK_AUDIT_CHECKPOINT_EVENTS: '50',
      STORK_AUDIT_CHECKPOINT_SECONDS: '60',
      STORK_DATA_KEY_FILES: '/etc/stork/data-2.key, /etc/stork/data-1.key',
      STORK_WEBHOOK_TIMEOUT_MS: '2500',
      STORK_WEBHOOK_BACKOFF_MS: '5',
      STORK_WEBHOOK_BACKOFF_MAX_MS: '500',
      STORK_WEBHOOK_HORIZON_MS: '60000',
      STORK_WEBHOOK_SWEEP_MS: '50',
      STORK_WEBHOOK_LOOKBACK_MS: '0',
      STORK_WEBHOOK_CONCURRENCY: '2',
      STORK_WEBHOOK_SECRET_RICHMOND: 'a-webhook-secret-is-not-a-setting',
    });
    expect(config.secret('STORK_FHIR_TOKEN_NORTHGATE')).toBe('token-from-the-environment');
    expect({ ...config, secret: undefined }).toEqual({
      httpPort: 9090,
      mllpPort: 0,
      host: '127.0.0.1',
      redis: { mode: 'single', url: 'rediss://cache.example.org:6380/2' },
      databaseUrl: 'postgresql://stork:secret@db.example.org:5432/stork',
      dataDir: '/var/lib/stork',
      configDir: '/etc/stork-config',
      logLevel: 'debug',
      roles: ['worker'],
      mllpMaxMessageBytes: 2048,
      mllpIdleTimeoutMs: 1000,
      mllpFrameTimeoutMs: 800,
      mllpMaxConnections: 20,
      mllpMaxConnectionsPerAddress: 3,
      mllpMaxBufferedBytes: 4096,
      hl7MaxSegments: 50,
      hl7MaxRepetitions: 7,
      queuePrefix: 'test_run-7',
      workerConcurrency: 1000,
      jobLockMs: 30000,
      apiDbConnections: 3,
      apiClientConcurrency: 2,
      httpRatePerSecond: 7,
      httpRateBurst: 9,
      httpHeadersTimeoutMs: 1100,
      httpRequestTimeoutMs: 2200,
      httpKeepAliveTimeoutMs: 3300,
      recoverySweepMs: 5000,
      eventFetchIntervalMs: 250,
      consentPeriodsMs: 60000,
      eventFetchMaxAttempts: 3,
      publicUrl: 'https://stork.example.org',
      oidcClientSecret: 'a-secret-of-some-length',
      localOidc: true,
      localOidcPort: 0,
      auditSigningKeyFile: '/etc/stork/audit.pem',
      auditPublicKeyFiles: ['/etc/stork/old-1.pub.pem', '/etc/stork/old-2.pub.pem'],
      dataKeyFiles: ['/etc/stork/data-2.key', '/etc/stork/data-1.key'],
      auditCheckpointEvents: 50,
      auditCheckpointMs: 60000,
      webhookTimeoutMs: 2500,
      webhookBackoffMs: 5,
      webhookBackoffMaxMs: 500,
      webhookHorizonMs: 60000,
      webhookSweepMs: 50,
      webhookLookbackMs: 0,
      webhookConcurrency: 2,
    });
  });

  it('refuses a public URL with a path, a short client secret, a local provider switch that is not on/off', () => {
    expect(() =>
      loadEnvConfig({ STORK_PUBLIC_URL: 'https://stork.example.org/app', STORK_OIDC_CLIENT_SECRET: 'short', STORK_LOCAL_OIDC: 'yes' }),
    ).toThrow(/STORK_PUBLIC_URL[\s\S]*STORK_OIDC_CLIENT_SECRET[\s\S]*STORK_LOCAL_OIDC/);
  });

  it('resolves a relative data directory against the working directory', () => {
    expect(loadEnvConfig({ STORK_DATA_DIR: 'var/x' }).dataDir).toBe(path.resolve(process.cwd(), 'var', 'x'));
  });

  it('accepts postgres:// as well as postgresql://', () => {
    expect(loadEnvConfig({ DATABASE_URL: 'postgres://h/db' }).databaseUrl).toBe('postgres://h/db');
  });

  it("reads the schema owner's connection for migrations, beside the application's own", () => {
    const config = loadEnvConfig({
      DATABASE_URL: 'postgres://stork_app:a@db/stork',
      STORK_MIGRATION_DATABASE_URL: 'postgresql://stork_owner:o@db/stork',
    });
    expect(config.databaseUrl).toBe('postgres://stork_app:a@db/stork');
    expect(config.migrationDatabaseUrl).toBe('postgresql://stork_owner:o@db/stork');
    expect('migrationDatabaseUrl' in loadEnvConfig({ DATABASE_URL: 'postgres://h/db' })).toBe(false);
  });

  it('refuses an owner connection without DATABASE_URL: the embedded store has a single user', () => {
    const err = configError({ STORK_MIGRATION_DATABASE_URL: 'postgres://stork_owner@db/stork' });
    expect(err.problems).toEqual([
      'STORK_MIGRATION_DATABASE_URL: needs DATABASE_URL (the embedded store has one user and no separate owner)',
    ]);
  });

  it('checks the owner connection is a PostgreSQL address', () => {
    const err = configError({ DATABASE_URL: 'postgres://h/db', STORK_MIGRATION_DATABASE_URL: 'mysql://h/db' });
    expect(err.problems).toEqual(['STORK_MIGRATION_DATABASE_URL: must match pattern "^postgres(ql)?://"']);
  });

  it('de-duplicates roles and keeps their order', () => {
    expect(loadEnvConfig({ STORK_ROLES: 'worker,intake,worker' }).roles).toEqual(['worker', 'intake']);
  });

  it('accepts surrounding spaces in an integer', () => {
    expect(loadEnvConfig({ STORK_HTTP_PORT: ' 8081 ' }).httpPort).toBe(8081);
  });

  it('ignores variables that are not Stork settings, and STORK_CORPUS', () => {
    const config = loadEnvConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'test', STORK_CORPUS: '/corpus' });
    expect(config.httpPort).toBe(8080);
  });

  it('lists every bad value in one ConfigError, naming each variable', () => {
    const err = configError({
      STORK_HTTP_PORT: 'abc',
      STORK_MLLP_PORT: '70000',
      REDIS_URL: 'http://x',
      STORK_ROLES: 'intake,cook',
      STORK_FOO: '1',
    });
    expect(err.name).toBe('ConfigError');
    expect(err.problems).toHaveLength(5);
    for (const variable of ['STORK_HTTP_PORT', 'STORK_MLLP_PORT', 'REDIS_URL', 'STORK_ROLES', 'STORK_FOO']) {
      const mentions = err.problems.filter((p) => p.startsWith(`${variable}: `));
      expect({ variable, count: mentions.length }).toEqual({ variable, count: 1 });
      expect(err.message).toContain(variable);
    }
    expect(err.problems).toContain('STORK_HTTP_PORT: must be integer');
    expect(err.problems).toContain('STORK_MLLP_PORT: must be <= 65535');
    expect(err.problems.find((p) => p.startsWith('STORK_FOO: '))).toMatch(/^STORK_FOO: unknown setting \(known: .*STORK_HTTP_PORT/);
    expect(err.message.startsWith('Invalid environment:\n  ')).toBe(true);
  });

  it.each([
    ['STORK_HTTP_PORT', '-1'],
    ['STORK_HTTP_PORT', '80.5'],
    ['STORK_HTTP_PORT', '1e3'],
    ['STORK_MLLP_PORT', '65536'],
    ['LOG_LEVEL', 'verbose'],
    ['DATABASE_URL', 'mysql://h/db'],
    ['STORK_ROLES', 'intake,'],
    ['STORK_ROLES', 'Intake'],
    ['STORK_MLLP_MAX_BYTES', '1023'],
    ['STORK_MLLP_IDLE_TIMEOUT_MS', '999'],
    ['STORK_MLLP_FRAME_TIMEOUT_MS', '99'],
    ['STORK_HTTP_RATE_PER_SECOND', '0'],
    ['STORK_HTTP_HEADERS_TIMEOUT_MS', '99'],
    ['STORK_MLLP_MAX_CONNECTIONS', '0'],
    ['STORK_MLLP_MAX_CONNECTIONS_PER_ADDRESS', '0'],
    ['STORK_MLLP_MAX_BUFFERED_BYTES', '1023'],
    ['STORK_MLLP_MAX_BUFFERED_BYTES', '1048575'],
    ['STORK_HL7_MAX_SEGMENTS', '0'],
    ['STORK_HL7_MAX_REPETITIONS', '0'],
    ['STORK_HL7_MAX_REPETITIONS', 'many'],
    ['STORK_QUEUE_PREFIX', 'a:b'],
    ['STORK_WORKER_CONCURRENCY', '0'],
    ['STORK_WORKER_CONCURRENCY', '1001'],
  ])('rejects %s=%j, naming the variable', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.startsWith(`${variable}: `)).toBe(true);
  });

  it('accepts a buffered-bytes budget equal to the largest message, and refuses one below it, naming both settings', () => {
    expect(loadEnvConfig({ STORK_MLLP_MAX_BYTES: '2048', STORK_MLLP_MAX_BUFFERED_BYTES: '2048' }).mllpMaxBufferedBytes).toBe(2048);
    const err = configError({ STORK_MLLP_MAX_BYTES: '4096', STORK_MLLP_MAX_BUFFERED_BYTES: '4095' });
    expect(err.problems).toEqual([
      'STORK_MLLP_MAX_BUFFERED_BYTES: must be at least STORK_MLLP_MAX_BYTES, so that one whole message can be received',
    ]);
  });

  it('reports an unknown STORK_ variable even when everything else is fine', () => {
    const err = configError({ STORK_HTTP_PROT: '8080' });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.startsWith('STORK_HTTP_PROT: unknown setting')).toBe(true);
  });

  it('reads a secret named in a data file from the same environment, only when asked; an empty one is absent', () => {
    const config = loadEnvConfig({ NEMS_MESH_PASSWORD: 'pw', MESH_SHARED_KEY: '' });
    expect(config.secret('NEMS_MESH_PASSWORD')).toBe('pw');
    expect(config.secret('MESH_SHARED_KEY')).toBeUndefined();
    expect(config.secret('NOT_SET_AT_ALL')).toBeUndefined();
    // Never part of what the settings would print.
    expect(JSON.stringify(config)).not.toContain('pw');
  });

  describe('Redis modes (STORK_REDIS_MODE)', () => {
    it('reads a cluster: its seed nodes, password (read when connecting, never printed) and TLS', () => {
      const { redis } = loadEnvConfig({
        STORK_REDIS_MODE: 'cluster',
        STORK_REDIS_NODES: 'redis-a.example.org:7000,10.0.0.2:7001',
        STORK_REDIS_PASSWORD: 'cluster-pw',
        STORK_REDIS_TLS: 'on',
      });
      expect(redis.mode).toBe('cluster');
      if (redis.mode !== 'cluster') return;
      expect(redis.nodes).toEqual([
        { host: 'redis-a.example.org', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ]);
      expect(redis.tls).toBe(true);
      expect(redis.password?.()).toBe('cluster-pw');
      expect(JSON.stringify(redis)).not.toContain('cluster-pw');
    });

    it('reads a sentinel-managed master: the sentinels, the master name and both passwords', () => {
      const { redis } = loadEnvConfig({
        STORK_REDIS_MODE: 'sentinel',
        STORK_REDIS_SENTINELS: 's1:26379,s2:26379,s3:26379',
        STORK_REDIS_SENTINEL_MASTER: 'stork-master',
        STORK_REDIS_PASSWORD: 'master-pw',
        STORK_REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      });
      expect(redis.mode).toBe('sentinel');
      if (redis.mode !== 'sentinel') return;
      expect(redis.sentinels.map((s) => `${s.host}:${s.port}`)).toEqual(['s1:26379', 's2:26379', 's3:26379']);
      expect(redis.masterName).toBe('stork-master');
      expect(redis.tls).toBe(false);
      expect([redis.password?.(), redis.sentinelPassword?.()]).toEqual(['master-pw', 'sentinel-pw']);
      expect(JSON.stringify(redis)).not.toMatch(/master-pw|sentinel-pw/);
    });

    it.each([
      [{ STORK_REDIS_MODE: 'cluster' }, ['STORK_REDIS_NODES: required with STORK_REDIS_MODE=cluster']],
      [
        { STORK_REDIS_MODE: 'sentinel' },
        [
          'STORK_REDIS_SENTINELS: required with STORK_REDIS_MODE=sentinel',
          'STORK_REDIS_SENTINEL_MASTER: required with STORK_REDIS_MODE=sentinel',
        ],
      ],
      [
        { STORK_REDIS_MODE: 'cluster', STORK_REDIS_NODES: 'a:7000', REDIS_URL: 'redis://x:6379' },
        ['REDIS_URL: not used with STORK_REDIS_MODE=cluster'],
      ],
      [
        { STORK_REDIS_MODE: 'cluster', STORK_REDIS_NODES: 'a:7000', STORK_REDIS_SENTINEL_MASTER: 'm' },
        ['STORK_REDIS_SENTINEL_MASTER: not used with STORK_REDIS_MODE=cluster'],
      ],
      [{ STORK_REDIS_NODES: 'a:7000' }, ['STORK_REDIS_NODES: not used with STORK_REDIS_MODE=single']],
      [{ STORK_REDIS_PASSWORD: 'pw' }, ['STORK_REDIS_PASSWORD: not used with STORK_REDIS_MODE=single']],
      [{ STORK_REDIS_MODE: 'sharded' }, ['STORK_REDIS_MODE: must be equal to one of the allowed values']],
      [{ STORK_REDIS_MODE: 'cluster', STORK_REDIS_NODES: 'a:7000, b:7001' }, ['STORK_REDIS_NODES: must match pattern']],
      [{ STORK_REDIS_MODE: 'cluster', STORK_REDIS_NODES: 'a' }, ['STORK_REDIS_NODES: must match pattern']],
      [
        { STORK_REDIS_MODE: 'cluster', STORK_REDIS_NODES: 'a:7000,b:70000,c:0' },
        ['STORK_REDIS_NODES: port out of range (1-65535) in b:70000, c:0'],
      ],
      [
        { STORK_REDIS_MODE: 'sentinel', STORK_REDIS_SENTINELS: 's:26379', STORK_REDIS_SENTINEL_MASTER: 'no spaces please' },
        ['STORK_REDIS_SENTINEL_MASTER: must match pattern'],
      ],
    ])('refuses %j, naming the variable', (env, expected) => {
      const err = configError(env);
      expect(err.problems).toHaveLength(expected.length);
      expected.forEach((start, i) => expect(err.problems[i]).toContain(start));
    });
  });
});
