import { join } from 'node:path';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

/**
 * The layer rules of .dependency-cruiser.js, run through dependency-cruiser's API: the deliberate
 * violations in test/layer-fixtures/ are each reported, and the real tree (what `npm run lint:layers`
 * checks) has none.
 */
const root = process.cwd();
const fixtures = join(root, 'test', 'layer-fixtures');

async function cruiseFrom(baseDir: string, paths: string[]): Promise<ICruiseResult> {
  const options = await extractDepcruiseOptions(join(root, '.dependency-cruiser.js'));
  const tsConfigFile = join(root, 'tsconfig.json');
  const result = await cruise(paths, { ...options, baseDir, tsConfig: { fileName: tsConfigFile }, validate: true }, undefined, {
    tsConfig: extractTSConfig(tsConfigFile),
  });
  if (typeof result.output === 'string') throw new Error(`unexpected string output from dependency-cruiser`);
  return result.output;
}

/** `rule: from → to`, with a package named by its folder (`node_modules/pg`) whatever file of it resolved. */
const describeViolation = (v: IViolation): string =>
  `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, 'node_modules/$1')}`;

describe('layer rules (.dependency-cruiser.js)', () => {
  it('report every deliberate violation in test/layer-fixtures, and nothing allowed there', async () => {
    const result = await cruiseFrom(fixtures, ['src', 'adapters']);
    expect(result.summary.violations.map(describeViolation).sort()).toEqual(
      [
        'adapters-meet-only-through-ports: adapters/http/routes/route.ts → adapters/store/db.ts',
        'domain-imports-only-domain: src/domain/record.ts → src/config/settings.ts',
        'no-circular: src/pipeline/cycle-a.ts → src/pipeline/cycle-b.ts',
        'only-the-composition-root-imports-adapters: src/intake/intake.ts → adapters/store/db.ts',
        'only-the-composition-root-imports-adapters: src/pipeline/stage.ts → adapters/store/db.ts',
        'pure-layers-do-no-io: src/domain/reads-file.ts → fs',
        'pure-layers-do-no-io: src/pipeline/stage.ts → node_modules/pg',
        'pure-layers-know-no-adapters-or-config: src/domain/record.ts → src/config/settings.ts',
        'pure-layers-know-no-adapters-or-config: src/pipeline/stage.ts → adapters/store/db.ts',
      ].sort(),
    );
  });

  it('find no violation in src, adapters and test', async () => {
    const result = await cruiseFrom(root, ['src', 'adapters', 'test']);
    expect(result.summary.violations.map(describeViolation)).toEqual([]);
    expect(result.summary.totalCruised).toBeGreaterThan(100);
  });
});
