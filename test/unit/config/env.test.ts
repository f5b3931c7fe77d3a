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
      redisUrl: 'redis://127.0.0.1:6379',
      dataDir: path.resolve(process.cwd(), 'data'),
      configDir: REPO,
      logLevel: 'info',
      roles: ['intake', 'worker'],
      mllpMaxMessageBytes: 1048576,
      mllpIdleTimeoutMs: 300000,
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
      recoverySweepMs: 30000,
      eventFetchIntervalMs: 1000,
      consentPeriodsMs: 600000,
      eventFetchMaxAttempts: 10,
      localOidc: false,
      localOidcPort: 8081,
      auditPublicKeyFiles: [],
      auditCheckpointEvents: 1000,
      auditCheckpointMs: 300000,
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
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
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
      STORK_MLLP_MAX_CONNECTIONS: '20',
      STORK_MLLP_MAX_CONNECTIONS_PER_ADDRESS: '3',
      STORK_MLLP_MAX_BUFFERED_BYTES: '4096',
      STORK_HL7_MAX_SEGMENTS: '50',
      STORK_HL7_MAX_REPETITIONS: '7',
      STORK_QUEUE_PREFIX: 'test_run-7',
      STORK_WORKER_CONCURRENCY: '1000',
      STORK_API_DB_CONNECTIONS: '3',
      STORK_API_CLIENT_CONCURRENCY: '2',
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
    });
    expect(config.secret('STORK_FHIR_TOKEN_NORTHGATE')).toBe('token-from-the-environment');
    expect({ ...config, secret: undefined }).toEqual({
      httpPort: 9090,
      mllpPort: 0,
      host: '127.0.0.1',
      redisUrl: 'rediss://cache.example.org:6380/2',
      databaseUrl: 'postgresql://stork:secret@db.example.org:5432/stork',
      dataDir: '/var/lib/stork',
      configDir: '/etc/stork-config',
      logLevel: 'debug',
      roles: ['worker'],
      mllpMaxMessageBytes: 2048,
      mllpIdleTimeoutMs: 1000,
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
      auditCheckpointEvents: 50,
      auditCheckpointMs: 60000,
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
});
