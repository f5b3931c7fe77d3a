import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadMatchModel } from '../../../src/config/matching.js';
import { repoRoot } from '../../../src/config/env.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

function withModel(change: (file: Record<string, unknown>) => void): string {
  const dir = copySampleConfig('stork-matching-');
  const file = path.join(dir, 'mappings', 'matching.json');
  const data = JSON.parse(readFileSync(path.join(repoRoot, 'mappings', 'matching.json'), 'utf8')) as Record<string, unknown>;
  change(data);
  writeFileSync(file, JSON.stringify(data));
  return file;
}

type Fields = { field: string; levels: { level: string; m: number; u: number }[] }[];

describe('The family-matching model (mappings/matching.json)', () => {
  it('loads the production model: five fields, a provenance note, review threshold below the match threshold', () => {
    const model = loadMatchModel();
    expect(model.fields.map((f) => f.field)).toEqual(['familyName', 'givenName', 'birthDate', 'postcode', 'phone']);
    expect(model.provenance.length).toBeGreaterThan(20);
    expect(model.thresholds.review).toBeLessThan(model.thresholds.match);
    expect(model.blocking.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a schema violation, naming the file and the field', () => {
    const file = withModel((d) => {
      ((d.fields as Fields)[2]?.levels[0] as { m: unknown }).m = 'high';
    });
    const err = configError(() => loadMatchModel(file));
    expect(err.message).toContain(file);
    expect(err.problems.join('\n')).toMatch(/field \/fields\/2\/levels\/0\/m: must be number/);
  });

  it('refuses a level its comparator does not know, a field the matcher does not compare, m not summing to 1', () => {
    const levelFile = withModel((d) => {
      const f = (d.fields as Fields)[3];
      if (f?.levels[1]) f.levels[1].level = 'same-street';
    });
    expect(configError(() => loadMatchModel(levelFile)).problems.join('\n')).toMatch(
      /matching\.json: field \/fields\/3\/levels\/1\/level: level 'same-street' is not one the 'postcode' comparator knows/,
    );
    const fieldFile = withModel((d) => {
      const f = (d.fields as Fields)[4];
      if (f) f.field = 'nhsNumber';
    });
    expect(configError(() => loadMatchModel(fieldFile)).problems.join('\n')).toMatch(/field \/fields\/4\/field: 'nhsNumber' is not one of/);
    const sumFile = withModel((d) => {
      const f = (d.fields as Fields)[0];
      if (f?.levels[0]) f.levels[0].m = 0.2;
    });
    expect(configError(() => loadMatchModel(sumFile)).problems.join('\n')).toMatch(/field \/fields\/0\/levels: the m probabilities sum to/);
  });

  it('refuses a review threshold above the match threshold and a missing file', () => {
    const file = withModel((d) => {
      d.thresholds = { match: 2, review: 5 };
    });
    expect(configError(() => loadMatchModel(file)).problems.join('\n')).toMatch(/field \/thresholds\/review/);
    expect(configError(() => loadMatchModel('/nonexistent/matching.json')).message).toMatch(/matching\.json: cannot be read/);
  });
});
