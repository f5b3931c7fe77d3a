import { isPastDate, readRegister } from '../../../src/pipeline/family-register.js';

const options = () => {
  let i = 0;
  return { today: '2026-11-29', at: new Date('2026-11-29T10:00:00Z'), newId: () => `id-${++i}`, blockingKeys: () => ['k'] };
};

describe('readRegister: a centre register, row by row', () => {
  test('groups rows into families by familyRef, normalises NHS numbers and postcodes, keys children by NHS number or local id', () => {
    const r = readRegister(
      [
        { familyRef: 'A', role: 'lead', nhsNumber: '999 000 0018', familyName: 'Lark', givenNames: 'Ann  Marie', postcode: 'ls97ab' },
        { familyRef: 'A', role: 'child', nhsNumber: '9990000026', birthDate: '2024-01-02', sex: 'female' },
        { familyRef: 'A', role: 'child', localId: 'C7', birthDate: '2025-03-04' },
      ],
      'osmondthorpe',
      options(),
    );
    expect(r.rejected).toEqual([]);
    expect(r.families).toHaveLength(1);
    const f = r.families[0];
    expect(f?.family).toMatchObject({
      id: 'id-1',
      lead: { nhsNumber: '9990000018', name: { family: 'Lark', given: ['Ann', 'Marie'] } },
      address: { postcode: 'LS9 7AB' },
      centre: 'osmondthorpe',
      origin: 'register-import',
      blockKeys: ['k'],
    });
    expect(f?.children.map((c) => c.childKey)).toEqual(['nhs:9990000026', 'register:osmondthorpe:A:C7']);
    expect(f?.rows).toEqual([1, 2, 3]);
  });

  test('reports each bad row by number, field and problem, without its value', () => {
    const r = readRegister(
      [
        { familyRef: 'A', role: 'lead', nhsNumber: '9990000019', familyName: 'Lark', postcode: 'LS9 7AB' },
        { familyRef: 'A', role: 'child', birthDate: '2024-01-02' },
        { familyRef: 'B', role: 'lead', familyName: 'Moss', postcode: 'LS9 7AB', colour: 'blue' },
        { familyRef: 'C', role: 'lead', familyName: 7, postcode: 'LS9 7AB' },
        { familyRef: 'D', role: 'lead', familyName: 'Nash', postcode: 'LS9 7AB' },
        { familyRef: 'D', role: 'lead', familyName: 'Nash', postcode: 'LS9 7AB' },
        { familyRef: 'E', role: 'lead', familyName: 'Oak', postcode: 'LS9 7AB', nhsNumber: '9990000026' },
        { familyRef: 'F', role: 'lead', familyName: 'Pine', postcode: 'LS9 7AB', nhsNumber: '9990000026' },
        { familyRef: 'G', role: 'child', birthDate: '2024-02-30' },
        { role: 'lead', familyName: 'Quill', postcode: 'LS9 7AB' },
      ],
      'osmondthorpe',
      options(),
    );
    expect(r.rejected.map((p) => [p.row, p.field])).toEqual([
      [1, 'nhsNumber'],
      [2, 'familyRef'],
      [3, 'colour'],
      [4, 'familyName'],
      [6, 'role'],
      [8, 'nhsNumber'],
      [9, 'birthDate'],
      [10, 'familyRef'],
    ]);
    expect(JSON.stringify(r.rejected)).not.toMatch(/9990000019|blue|Pine|2024-02-30/);
    expect(r.families.map((f) => f.family.lead.name?.family)).toEqual(['Nash', 'Oak']);
  });

  test('dates are real, not in the future, not before 1900', () => {
    expect(isPastDate('2024-02-29', '2026-11-29')).toBe(true);
    expect(isPastDate('2023-02-29', '2026-11-29')).toBe(false);
    expect(isPastDate('2026-11-30', '2026-11-29')).toBe(false);
    expect(isPastDate('1899-12-31', '2026-11-29')).toBe(false);
    expect(isPastDate('12/03/1990', '2026-11-29')).toBe(false);
  });
});
