import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../../src/domain/config-error.js';
import { loadHl7v2Mappings } from '../../../../src/config/hl7v2-mappings.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const base = { fields: { 'baby.birth': { path: 'PID-7' } } };

/** Writes the given files to a fresh directory and loads it; returns the ConfigError message, if any. */
function load(files: Record<string, unknown>): { error?: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'stork-mappings-'));
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(data));
    loadHl7v2Mappings(dir);
    return {};
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { error: e.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('loadHl7v2Mappings', () => {
  it('loads the shipped mappings and resolves extends', () => {
    const set = loadHl7v2Mappings(path.join(repo, 'mappings', 'hl7v2'));
    expect(set.names().sort()).toEqual(['itk-adt', 'maternity-booking', 'northvale-trust']);
    const nv = set.get('northvale-trust');
    expect([...nv.births.events]).toEqual(['A28', 'A04', 'A01', 'A05']);
    expect(nv.births.maxAgeDays).toBe(28);
    expect(nv.fields.get('baby.nhsNumber')?.[0]?.path).toEqual({ segment: 'PID', field: 2 });
    expect(nv.fields.get('mother.name')?.[0]?.segmentWhere?.values).toEqual(new Set(['MTH', '16']));
    expect(set.get('itk-adt').fields.get('mother.name')?.[0]?.segmentWhere?.values).toEqual(new Set(['MTH']));
    expect(() => set.get('nope')).toThrow(ConfigError);
  });

  it('defaults births to A28/A04/A01 within 28 days', () => {
    expect(load({ a: base })).toEqual({});
  });

  it('defaults update events to A08/A31 (death events too); a birth event listed as an update stays a birth event', () => {
    const itk = loadHl7v2Mappings(path.join(repo, 'mappings', 'hl7v2')).get('itk-adt');
    expect([...itk.births.updateEvents]).toEqual(['A08', 'A31']);
    expect([...itk.births.deathEvents].sort()).toEqual(['A03', 'A08', 'A31']);
    expect(load({ a: { ...base, births: { updateEvents: ['A08', 'A28', 'Z01'] } } })).toEqual({});
    expect(load({ a: { ...base, births: { updateEvents: ['a08'] } } }).error).toMatch(/a\.json: field \/births\/updateEvents\/0/);
    expect(load({ a: { ...base, births: { updateEvents: 'A08' } } }).error).toMatch(/a\.json: field \/births\/updateEvents/);
  });

  it.each([
    ['unknown top-level key', { ...base, colour: 'red' }, /a\.json: field \(top level\).*colour/],
    ['unknown target', { fields: { ...base.fields, 'baby.shoeSize': { path: 'PID-99' } } }, /a\.json: field \/fields/],
    ['bad path', { fields: { 'baby.birth': { path: 'PID7' } } }, /a\.json: field \/fields\/baby\.birth/],
    [
      'unknown function',
      { fields: { ...base.fields, 'baby.name': { path: 'PID-5', function: 'eval' } } },
      /a\.json: field \/fields\/baby\.name\/function: unknown function "eval"/,
    ],
    [
      'function of the wrong kind',
      { fields: { ...base.fields, 'baby.name': { path: 'PID-5', function: 'addressFromXad' } } },
      /gives address, baby\.name needs name/,
    ],
    [
      'unknown table',
      { fields: { ...base.fields, 'baby.sex': { path: 'PID-8', table: 'sex' } } },
      /field \/fields\/baby\.sex\/table: unknown table "sex"/,
    ],
    [
      'table value not allowed',
      { tables: { sex: { M: 'boy' } }, fields: { ...base.fields, 'baby.sex': { path: 'PID-8', table: 'sex' } } },
      /field \/tables\/sex\/M: value not allowed for baby\.sex/,
    ],
    ['code target without table', { fields: { ...base.fields, confidentiality: { path: 'PD1-12' } } }, /confidentiality needs a "table"/],
    ['no date of birth', { fields: {} }, /baby\.birth is required/],
    ['selector on another segment', { segmentSelectors: { NK1: { path: 'PID-3', in: ['X'] } }, ...base }, /segmentSelectors\/NK1\/path/],
  ])('rejects %s, naming file and field', (_name, data, message) => {
    expect(load({ a: data }).error).toMatch(message);
  });

  it('rejects a missing parent and circular extends', () => {
    expect(load({ a: { ...base, extends: 'zz' } }).error).toMatch(/a\.json: field \/extends: no mapping "zz"/);
    expect(load({ a: { extends: 'b' }, b: { extends: 'a' } }).error).toMatch(/circular/);
  });

  it('rejects bad JSON with the file name', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stork-mappings-'));
    writeFileSync(path.join(dir, 'broken.json'), '{');
    expect(() => loadHl7v2Mappings(dir)).toThrow(/broken\.json: not valid JSON/);
    rmSync(dir, { recursive: true, force: true });
  });
});
