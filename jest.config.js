/**
 * Jest runs the TypeScript sources as native ES modules (node --experimental-vm-modules), transformed by swc.
 * Projects: `unit` (pure code and golden files), then the integration tests twice, once per store:
 * embedded PGlite and PostgreSQL. Both need the real Redis; PostgreSQL runs need the real server.
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

/** @type {import('jest').Config} */
export default {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/golden/**/*.test.ts'] },
    {
      ...common,
      displayName: 'int-pglite',
      testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
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
  ],
};
