/**
 * Jest runs the TypeScript sources as native ES modules (node --experimental-vm-modules), transformed by swc.
 * Projects: `unit` (pure code and golden files), then the integration tests on PostgreSQL and a core of them
 * (ON_PGLITE_TOO) on embedded PGlite. Both need the real Redis; PostgreSQL runs need the real server. The browser tests
 * and the security suite (test/security) run once each, on PostgreSQL.
 */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

/**
 * The integration tests that also run on PGlite, the embedded store of the quick start: the ones whose subject is the
 * store itself (migrations, start-up and its folder lock, the quick start, transactions and concurrency, the store
 * going away, the audit chain's trigger, encryption at rest, retention's batches and leases, poison batches) and the
 * pipeline through consent, families and identity events (end to end, the quick start's test sends a birth through
 * it; birth-pipeline runs on PostgreSQL only since issue 17's tests took CI to 19.8 minutes). Every integration test runs on PostgreSQL,
 * the production store. (PGlite runs in the test's own process and costs two to four times PostgreSQL's time per
 * file: running every file on both took CI past its 20 minutes.)
 */
const ON_PGLITE_TOO = [
  'audit-chain',
  'consent-concurrency',
  'consent-register',
  'encryption-at-rest',
  'family-records',
  'identity-events',
  'migrations',
  'one-birth-concurrency',
  'poison-batch',
  'quick-start',
  'retention',
  'startup',
  'store-down',
];

/** @type {import('jest').Config} */
export default {
  testTimeout: 60000,
  // The whole run's logs are written to one folder and scanned for personal data at the end (test/support/log-scan.ts).
  ...common,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/golden/**/*.test.ts'] },
    {
      ...common,
      displayName: 'int-pglite',
      testMatch: ON_PGLITE_TOO.map((name) => `<rootDir>/test/integration/${name}.int.test.ts`),
      setupFiles: ['<rootDir>/test/support/store-pglite.ts'],
    },
    {
      ...common,
      displayName: 'int-postgres',
      testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
      setupFiles: ['<rootDir>/test/support/store-postgres.ts'],
    },
    // The web app in Debian's Chromium, headless: once, on PostgreSQL (the pages read through the same stores).
    {
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser.test.ts'],
      setupFiles: ['<rootDir>/test/support/store-postgres.ts'],
    },
    // The security suite (npm run test:security, issue 16): the role matrix, and any *.security.test.ts added under
    // test/security (fuzzing, log scans). Once, on PostgreSQL: one hub per file.
    {
      ...common,
      displayName: 'security',
      testMatch: ['<rootDir>/test/security/**/*.security.test.ts'],
      setupFiles: ['<rootDir>/test/support/store-postgres.ts'],
    },
  ],
};
