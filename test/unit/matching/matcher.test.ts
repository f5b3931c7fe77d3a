import { loadMatchModel } from '../../../src/config/matching.js';
import {
  blockingKeys,
  CandidateIndex,
  compileModel,
  estimateModel,
  rankCandidates,
  scorePair,
  seededRandom,
  type LinkageModel,
  type LinkRecord,
  type PersonForMatching,
} from '../../../src/matching/index.js';

const model = loadMatchModel();

const aisha: PersonForMatching = {
  familyName: 'Khan',
  givenNames: ['Aisha'],
  birthDate: '1991-04-07',
  postcode: 'LS9 7TF',
  phone: '07700 900123',
};

function level(p: PersonForMatching, q: PersonForMatching, field: string): string | undefined {
  return scorePair(model, p, q).contributions.find((c) => c.field === field)?.level;
}

describe('The family matcher (Fellegi–Sunter)', () => {
  it('exact agreement on every field is a match, and each field contributes a positive weight', () => {
    const s = scorePair(model, aisha, { ...aisha });
    expect(s.band).toBe('match');
    expect(s.probability).toBeGreaterThan(0.999);
    expect(s.contributions.map((c) => [c.field, c.level])).toEqual([
      ['familyName', 'exact'],
      ['givenName', 'exact'],
      ['birthDate', 'exact'],
      ['postcode', 'exact'],
      ['phone', 'exact'],
    ]);
    for (const c of s.contributions) expect(c.weight).toBeGreaterThan(0);
    const prior = Math.log2(model.prior / (1 - model.prior));
    expect(s.weight).toBeCloseTo(prior + s.contributions.reduce((t, c) => t + c.weight, 0), 10);
  });

  it("the mother of twins compared to herself (the second twin's notification) is the same family", () => {
    const second = { ...aisha, givenNames: ['Aisha'] };
    expect(scorePair(model, aisha, second).band).toBe('match');
  });

  it('a missing value contributes nothing, and says so', () => {
    const s = scorePair(model, aisha, { ...aisha, phone: undefined });
    expect(s.contributions.find((c) => c.field === 'phone')).toEqual({ field: 'phone', level: 'missing', weight: 0 });
  });

  it('given and family name written in the wrong order still match (swap level)', () => {
    const swapped = { ...aisha, familyName: 'Aisha', givenNames: ['Khan'] };
    expect(level(aisha, swapped, 'familyName')).toBe('swapped');
    expect(level(aisha, swapped, 'givenName')).toBe('swapped');
    expect(scorePair(model, aisha, swapped).band).toBe('match');
  });

  it('a hyphenated double-barrelled surname given as one part agrees partly', () => {
    const p = { ...aisha, familyName: 'Ahmed-Khan' };
    expect(level(p, aisha, 'familyName')).toBe('part');
    expect(scorePair(model, p, aisha).band).toBe('match');
  });

  it('typos and transliterations reach the similarity or phonetic levels', () => {
    expect(level({ familyName: 'Kowalski' }, { familyName: 'Kowalsky' }, 'familyName')).toBe('jaro-winkler>=0.92');
    expect(level({ givenNames: ['Mohammed'] }, { givenNames: ['Muhammad'] }, 'givenName')).toMatch(/jaro-winkler|phonetic/);
    expect(level({ givenNames: ['Aleksandr'] }, { givenNames: ['Alexander'] }, 'givenName')).toMatch(/jaro-winkler|phonetic/);
    expect(level({ givenNames: ['Katarzyna'] }, { givenNames: ['Katarina'] }, 'givenName')).toMatch(/jaro-winkler|phonetic/);
    expect(level({ familyName: 'Smith' }, { familyName: 'Okonkwo' }, 'familyName')).toBe('else');
    expect(level({ givenNames: ['Sophie', 'Louise'] }, { givenNames: ['Sophie'] }, 'givenName')).toBe('first-token');
    expect(level({ givenNames: ['Sophie', 'Louise'] }, { givenNames: ['Louise'] }, 'givenName')).toBe('part');
  });

  it('date of birth: day and month transposed, one unit off, a digit typo', () => {
    expect(level({ birthDate: '1991-04-07' }, { birthDate: '1991-07-04' }, 'birthDate')).toBe('day-month-swapped');
    expect(level({ birthDate: '1991-04-07' }, { birthDate: '1991-04-08' }, 'birthDate')).toBe('off-by-one');
    expect(level({ birthDate: '1991-04-07' }, { birthDate: '1981-04-07' }, 'birthDate')).toBe('damerau-levenshtein<=1');
    expect(level({ birthDate: '1991-04-07' }, { birthDate: '1991-11-23' }, 'birthDate')).toBe('same-year');
  });

  it('postcodes agree partly by sector, district and area', () => {
    expect(level({ postcode: 'LS9 7TF' }, { postcode: 'LS9 7AB' }, 'postcode')).toBe('sector');
    expect(level({ postcode: 'LS9 7TF' }, { postcode: 'LS9 6AB' }, 'postcode')).toBe('district');
    expect(level({ postcode: 'LS9 7TF' }, { postcode: 'LS16 6AB' }, 'postcode')).toBe('area');
    expect(level({ postcode: 'LS9 7TF' }, { postcode: 'M1 1AE' }, 'postcode')).toBe('else');
  });

  it('a family that moved house still matches on names, date of birth and phone', () => {
    const moved = { ...aisha, postcode: 'BS1 4DJ' };
    const s = scorePair(model, aisha, moved);
    expect(s.contributions.find((c) => c.field === 'postcode')?.weight).toBeLessThan(0);
    expect(s.band).toBe('match');
  });

  it('a different woman with a common name and the same date of birth, living elsewhere with another phone, is not a match', () => {
    const other = { familyName: 'Khan', givenNames: ['Aisha'], birthDate: '1991-04-07', postcode: 'B11 1AA', phone: '07911 123456' };
    expect(scorePair(model, aisha, other).band).not.toBe('match');
    const neighbour = { familyName: 'Khan', givenNames: ['Aisha'], birthDate: '1994-10-21', postcode: 'LS9 7TF', phone: '07911 123456' };
    expect(scorePair(model, aisha, neighbour).band).not.toBe('match');
    const stranger = { familyName: 'Nowak', givenNames: ['Zofia'], birthDate: '1988-12-01', postcode: 'LS9 7TF' };
    expect(scorePair(model, aisha, stranger).band).toBe('non-match');
  });

  it('blocking keys are stable strings and candidates sharing one are found; ranking puts the best first', () => {
    const keys = blockingKeys(model, aisha);
    expect(keys).toContain('dob:19910407');
    expect(blockingKeys(model, { ...aisha })).toEqual(keys);
    const swappedKeys = blockingKeys(model, { ...aisha, familyName: 'Aisha', givenNames: ['Khan'] });
    expect(swappedKeys.some((k) => keys.includes(k) && k.startsWith('names:'))).toBe(true);
    const register = [
      { id: 'a', person: { familyName: 'Nowak', givenNames: ['Zofia'], birthDate: '1991-04-07' } },
      { id: 'b', person: { ...aisha, postcode: 'LS8 1AA' } },
      { id: 'c', person: { familyName: 'Khan', givenNames: ['Amina'], birthDate: '1991-04-07', postcode: 'LS9 7TF' } },
    ];
    const index = new CandidateIndex();
    register.forEach((r, i) => index.add(i, blockingKeys(model, r.person)));
    const found = index
      .candidates(keys)
      .map((i) => register[i])
      .filter((r) => r !== undefined);
    expect(found).toHaveLength(3);
    expect(rankCandidates(model, aisha, found).map((r) => r.candidate.id)).toEqual(['b', 'c', 'a']);
  });

  it('a model with an unknown level is refused naming the field and level', () => {
    const bad = {
      ...model,
      fields: [
        {
          field: 'x',
          comparator: 'string',
          levels: [
            { level: 'sector', m: 0.5, u: 0.5 },
            { level: 'else', m: 0.5, u: 0.5 },
          ],
        },
      ],
    } as LinkageModel;
    expect(() => compileModel(bad)).toThrow(/fields\/0\/levels\/0\/level: level 'sector' is not one the 'string' comparator knows/);
  });

  it('EM recovers m and u close to the truth on a generated set with known corruption rates', () => {
    const random = seededRandom(7);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const word = (): string => Array.from({ length: 6 }, () => letters[Math.floor(random() * 26)]).join('');
    const spec: LinkageModel = {
      provenance: 'test',
      prior: 0.01,
      thresholds: { match: 0, review: -5 },
      fields: ['a', 'b', 'c', 'd'].map((field) => ({
        field,
        comparator: 'string' as const,
        levels: [
          { level: 'exact', m: 0.9, u: 0.1 },
          { level: 'else', m: 0.1, u: 0.9 },
        ],
      })),
      blocking: [
        { name: 'a', parts: [{ field: 'a', transform: 'value' }] },
        { name: 'b', parts: [{ field: 'b', transform: 'value' }] },
      ],
    };
    const pool = Array.from({ length: 40 }, word);
    const records: LinkRecord[] = [];
    for (let e = 0; e < 2000; e++) {
      const orig = { a: pool[Math.floor(random() * 40)], b: pool[Math.floor(random() * 40)], c: word(), d: word() };
      records.push(orig);
      const dup: Record<string, string | undefined> = { ...orig };
      for (const f of ['a', 'b', 'c', 'd']) if (random() < 0.2) dup[f] = word();
      records.push(dup);
    }
    const { model: est } = estimateModel(spec, { records, provenance: 'test', randomPairs: 50_000, seed: 1 });
    for (const f of est.fields) {
      expect(f.levels[0]?.m).toBeGreaterThan(0.72);
      expect(f.levels[0]?.m).toBeLessThan(0.88);
    }
    // 40 equally likely values, a fifth of the duplicates replaced by a random word: u ≈ 0.9² / 40.
    expect(est.fields[0]?.levels[0]?.u).toBeGreaterThan(0.015);
    expect(est.fields[0]?.levels[0]?.u).toBeLessThan(0.03);
    const truePrior = 2000 / ((4000 * 3999) / 2);
    expect(est.prior / truePrior).toBeGreaterThan(0.7);
    expect(est.prior / truePrior).toBeLessThan(1.4);
  });
});
