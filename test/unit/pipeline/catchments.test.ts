import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/domain/config-error.js';
import { loadCatchments } from '../../../src/config/catchments.js';
import { buildCatchments, type CatchmentsFile } from '../../../src/pipeline/catchments.js';
import { configError } from '../../support/sample-config.js';
import { defined } from '../../support/defined.js';
import { normalisePostcode } from '../../../src/domain/postcode.js';

const SAMPLE = join(process.cwd(), 'mappings', 'catchments.json');
const dir = mkdtempSync(join(tmpdir(), 'stork-catchments-'));

function writeConfig(name: string, data: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
  return file;
}

/** Centre `c` of local authority `la` in a catchments file (or a raw copy of one). */
function centreAt<C>(file: { localAuthorities: { centres: C[] }[] }, la: number, c: number): C {
  return defined(defined(file.localAuthorities[la], `local authority ${la}`).centres[c], `centre ${c}`);
}

function base(): CatchmentsFile {
  return {
    localAuthorities: [
      {
        id: 'northgate',
        name: 'Northgate',
        districts: ['LS8', 'LS9'],
        centres: [
          { id: 'a', name: 'A', districts: ['LS9'], sectors: [], postcodes: [], delivery: { mode: 'pull' } },
          { id: 'b', name: 'B', districts: [], sectors: ['LS9 7'], postcodes: ['LS9 7AB'], delivery: { mode: 'pull' } },
        ],
      },
    ],
  };
}

describe('loadCatchments', () => {
  it('loads the sample configuration and indexes every level', () => {
    const c = loadCatchments(SAMPLE);
    expect(c.localAuthorities.map((la) => la.id)).toEqual(['northgate', 'southmoor']);
    expect(c.byDistrict.get('LS9')).toEqual({ centreId: 'east-end-park', localAuthorityId: 'northgate' });
    expect(c.bySector.get('LS9 7')?.centreId).toBe('richmond-hill');
    expect(c.byPostcode.get('LS9 7AB')?.centreId).toBe('osmondthorpe');
    expect(c.localAuthorityByDistrict.get('LS17')).toBe('northgate');
    const delivery = c.centres.get('belle-isle')?.delivery;
    expect(delivery?.mode).toBe('webhook');
    expect(delivery?.mode === 'webhook' ? delivery.url : '').toMatch(/^https:/);
    expect(delivery?.mode === 'webhook' ? delivery.secrets : []).toEqual([{ file: 'mappings/webhook-secret.DEMO-ONLY.txt' }]);
    expect(c.centres.get('richmond-hill')?.delivery.mode).toBe('both');
  });

  it('names the file and the field when the schema is violated', () => {
    const bad = base();
    const centre = centreAt(bad, 0, 1);
    centre.postcodes = ['ls9 7ab'];
    const file = writeConfig('bad-postcode.json', bad);
    const err = configError(() => loadCatchments(file));
    expect(err.message).toContain(file);
    expect(err.message).toContain('/localAuthorities/0/centres/1/postcodes/0');
  });

  it.each([
    ['postcodes', 'QA9 7AB', 'Q never starts a postcode'],
    ['postcodes', 'LS1Z 7AB', 'Z is never the fourth character of an outward code'],
    ['sectors', 'QA9 7', 'Q never starts a sector'],
    ['districts', 'LS9Z', 'Z is never the fourth character of a district'],
  ] as const)('rejects a %s entry %s that postcode normalisation never produces (%s), naming the file and field', (level, code, _why) => {
    const bad = base();
    centreAt(bad, 0, 1)[level].push(code);
    const file = writeConfig(`never-normalised-${level}.json`, bad);
    expect(normalisePostcode(level === 'postcodes' ? code : `${code} 1AA`)).not.toBe(code);
    const err = configError(() => loadCatchments(file));
    const index = centreAt(base(), 0, 1)[level].length;
    expect(err.message).toContain(`${file}: field /localAuthorities/0/centres/1/${level}/${index}: must match pattern`);
  });

  it('rejects a plain-http webhook, a webhook without a secret or with three, a secret written inline, and an unknown delivery mode', () => {
    const bad = base();
    centreAt(bad, 0, 0).delivery = { mode: 'webhook', url: 'http://insecure.example.org/', secrets: [{ env: 'S' }] };
    const err = configError(() => loadCatchments(writeConfig('http.json', bad)));
    expect(err.message).toContain('/localAuthorities/0/centres/0/delivery');
    for (const secrets of [[], [{ env: 'A' }, { env: 'B' }, { env: 'C' }], [{ value: 'inline-secret' }]]) {
      const raw = JSON.parse(JSON.stringify(base())) as { localAuthorities: { centres: { delivery: unknown }[] }[] };
      centreAt(raw, 0, 0).delivery = { mode: 'both', url: 'https://cms.example.org/', secrets };
      expect(configError(() => loadCatchments(writeConfig('secrets.json', raw))).message).toContain(
        '/localAuthorities/0/centres/0/delivery',
      );
    }
    const raw = JSON.parse(JSON.stringify(base())) as { localAuthorities: { centres: { delivery: unknown }[] }[] };
    centreAt(raw, 0, 0).delivery = { mode: 'email' };
    expect(() => loadCatchments(writeConfig('email.json', raw))).toThrow(ConfigError);
  });

  it('reports unreadable and malformed files with the file name', () => {
    expect(() => loadCatchments(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot be read/);
    expect(() => loadCatchments(writeConfig('broken.json', '{ nope'))).toThrow(/broken\.json: not valid JSON/);
  });

  it('rejects duplicate centre ids, naming both places', () => {
    const bad = base();
    centreAt(bad, 0, 1).id = 'a';
    const err = configError(() => loadCatchments(writeConfig('dup-centre.json', bad)));
    expect(err.message).toContain('dup-centre.json');
    expect(err.message).toMatch(
      /\/localAuthorities\/0\/centres\/1\/id: duplicate centre id "a" \(also at \/localAuthorities\/0\/centres\/0\)/,
    );
  });

  it.each([
    ['districts', 'LS8'],
    ['sectors', 'LS9 7'],
    ['postcodes', 'LS9 7AB'],
  ] as const)('rejects the same %s entry claimed by two centres, naming both centres', (level, code) => {
    const bad = base();
    const extra = {
      id: 'c',
      name: 'C',
      districts: [] as string[],
      sectors: [] as string[],
      postcodes: [] as string[],
      delivery: { mode: 'pull' as const },
    };
    extra[level] = [code];
    if (level === 'districts') centreAt(bad, 0, 0).districts.push('LS8');
    defined(bad.localAuthorities[0], 'local authority 0').centres.push(extra);
    const err = configError(() => buildCatchments(bad, 'cfg.json'));
    expect(err.message).toContain(`cfg.json: field /localAuthorities/0/centres/2/${level}/0`);
    expect(err.message).toMatch(/claimed by centres "(a|b)" and "c"/);
  });

  it('rejects a district claimed by two local authorities and centres outside their authority', () => {
    const bad = base();
    bad.localAuthorities.push({
      id: 'southmoor',
      name: 'Southmoor',
      districts: ['LS9', 'LS10'],
      centres: [{ id: 'z', name: 'Z', districts: [], sectors: ['LS11 2'], postcodes: [], delivery: { mode: 'pull' } }],
    });
    const err = configError(() => buildCatchments(bad, 'cfg.json'));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('district "LS9" is claimed by local authorities "northgate" and "southmoor"'),
        expect.stringContaining('sector "LS11 2" of centre "z" is outside the districts of local authority "southmoor"'),
      ]),
    );
  });

  it('rejects duplicate local authority ids', () => {
    const bad = base();
    bad.localAuthorities.push({ id: 'northgate', name: 'Again', districts: ['LS20'], centres: [] });
    expect(() => buildCatchments(bad, 'cfg.json')).toThrow(/duplicate local authority id "northgate"/);
  });
});
