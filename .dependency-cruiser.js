/**
 * Layer rules, checked by dependency-cruiser (`npm run lint:layers`, part of `npm run lint` and CI).
 * test/unit/layers.test.ts shows that each rule fails on a deliberate violation (test/layer-fixtures/)
 * and that the real tree has none.
 *
 * Layers: src/domain (the canonical record and its rules) ← src/pipeline (pure stages) ← src/config,
 * src/intake, src/processing, src/batching (use the ports) ← src/hub.ts and src/main.ts (the composition
 * root, the only src files that know adapters) ; adapters/<kind>/ implement src/ports.
 */

/** Modules that reach outside the process: files, sockets, processes, databases, queues, web servers. */
const IO_CORE_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'child_process',
  'cluster',
  'dgram',
  'dns',
  'dns/promises',
  'tls',
  'readline',
  'worker_threads',
  'inspector',
  'v8',
  'vm',
];
const IO_PACKAGES = ['pg', 'pg-pool', 'ioredis', 'bullmq', 'express', '@electric-sql/pglite', 'pino'];

const alternatives = (names) => names.map((n) => n.replace(/[/.]/g, '\\$&')).join('|');

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'pure-layers-do-no-io',
      comment:
        'src/domain, src/pipeline and src/matching are pure: no file, network, process, database, queue, web-server or log I/O. ' +
        'Reading configuration files belongs in src/config, I/O in adapters behind src/ports.',
      severity: 'error',
      from: { path: '^src/(domain|pipeline|matching)/' },
      to: {
        path: [`^(node:)?(${alternatives(IO_CORE_MODULES)})$`, `(^|/)node_modules/(${alternatives(IO_PACKAGES)})/`],
      },
    },
    {
      name: 'pure-layers-know-no-adapters-or-config',
      comment:
        'src/domain, src/pipeline and src/matching import nothing from adapters/ or src/config (config builds on the pipeline, not the reverse).',
      severity: 'error',
      from: { path: '^src/(domain|pipeline|matching)/' },
      to: { path: '^(adapters/|src/config/)' },
    },
    {
      name: 'domain-imports-only-domain',
      comment: 'src/domain is the bottom layer: within the project it imports only src/domain.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^(src|adapters|test)/', pathNot: '^src/domain/' },
    },
    {
      name: 'only-the-composition-root-imports-adapters',
      comment: 'In src only hub.ts (the composition root) and main.ts (the process) import adapters; everything else uses src/ports.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(hub|main)\\.ts$' },
      to: { path: '^adapters/' },
    },
    {
      name: 'adapters-meet-only-through-ports',
      comment:
        'adapters/<kind>/ may import its own folder (adapters/http/* includes adapters/http/routes/*) and src, ' +
        'never another adapter: they meet through src/ports, wired by src/hub.ts. ' +
        'adapters/cli/* are programs of their own (their own composition roots) and may use the MLLP client.',
      severity: 'error',
      from: { path: '^adapters/([^/]+)/', pathNot: '^adapters/cli/' },
      to: { path: '^adapters/', pathNot: '^adapters/$1/' },
    },
    {
      name: 'production-code-imports-no-tests',
      comment: 'src and adapters never import test code.',
      severity: 'error',
      from: { path: '^(src|adapters)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles in src and adapters (e.g. config ⇄ pipeline).',
      severity: 'error',
      from: { path: '^(src|adapters)/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a typo in a path or a package not installed).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    // adapters/http/app/static holds browser modules, whose imports are URLs the web app serves, not files.
    exclude: { path: ['(^|/)(dist|coverage|data)/', '^test/layer-fixtures/', '^adapters/http/app/static/'] },
    // Type-only imports count too: a type from src/config in the pipeline is still a layering dependency.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
