import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import { applyUpdate, compareByMotherDetails, demographicKey, nameKey } from '../../../src/pipeline/same-birth.js';

/** The trust's ADT: the baby's hospital number only; the mother's details (NK1) and NHS number. */
function adt(over: { baby?: Partial<BirthNotification['baby']>; mother?: Partial<NonNullable<BirthNotification['mother']>> } = {}) {
  const n: BirthNotification = {
    baby: {
      localIdentifiers: [{ value: 'RR81234567', assigner: 'RR8', type: 'MR' }],
      name: { family: 'OKAFOR', given: ['OLIVIA'] },
      sex: 'female',
      birthDate: '2026-11-28',
      birthTime: '2026-11-28T03:04:00+00:00',
      multipleBirth: false,
      address: { lines: ['47 PARK AVENUE'], postcode: 'LS9 7AB' },
      deceased: false,
      ...over.baby,
    },
    mother: {
      nhsNumber: '9995875217',
      localIdentifiers: [{ value: 'RR87654321', assigner: 'RR8' }],
      name: { family: 'OKAFOR', given: ['CHLOE'] },
      birthDate: '1994-03-17',
      address: { lines: ['47 PARK AVENUE'], postcode: 'LS9 7AB' },
      phone: '07700475910',
      ...over.mother,
    },
    gpPractice: { odsCode: 'B86001' },
    confidentiality: 'normal',
    source: { format: 'hl7v2', feedId: 'leeds-pas', messageControlId: 'C1', event: 'ADT^A28' },
  };
  return n;
}

/** The national notification of the same baby, its mother without a usable NHS number; times with seconds and Z. */
function nems(over: { baby?: Partial<BirthNotification['baby']>; mother?: Partial<NonNullable<BirthNotification['mother']>> } = {}) {
  const n: BirthNotification = {
    baby: {
      nhsNumber: '9998853931',
      nhsNumberStatus: '01',
      localIdentifiers: [],
      sex: 'female',
      birthDate: '2026-11-28',
      birthTime: '2026-11-28T03:04:30Z',
      birthOrder: 1,
      deceased: false,
      ...over.baby,
    },
    mother: { localIdentifiers: [], name: { family: 'Okafor', given: ['Chloe'] }, birthDate: '1994-03-17', ...over.mother },
    confidentiality: 'normal',
    source: { format: 'nems-stu3', feedId: 'nems-births', messageControlId: 'B1', event: 'pds-birth-notification-1' },
  };
  return n;
}

describe('demographicKey: the second-level key of a birth whose routes share no NHS number', () => {
  test('the ADT and the national notification of one baby share it (case, seconds and offset aside)', () => {
    expect(demographicKey(adt())).toBeDefined();
    expect(demographicKey(nems())).toBe(demographicKey(adt()));
    expect(demographicKey(adt())).not.toMatch(/OLIVIA|9995875217|LS9/);
  });

  test('is undefined without the time of birth, a known sex, or the mother’s date of birth or family name', () => {
    expect(demographicKey(adt({ baby: { birthTime: undefined } }))).toBeUndefined();
    expect(demographicKey(adt({ baby: { sex: 'unknown' } }))).toBeUndefined();
    expect(demographicKey(adt({ mother: { birthDate: undefined } }))).toBeUndefined();
    expect(demographicKey(adt({ mother: { name: { given: ['CHLOE'] } } }))).toBeUndefined();
    const motherless = adt();
    delete motherless.mother;
    expect(demographicKey(motherless)).toBeUndefined();
  });

  test('twins differ: another minute of birth, or another sex', () => {
    const twin1 = adt({ baby: { multipleBirth: true, birthOrder: 1 } });
    expect(demographicKey(adt({ baby: { multipleBirth: true, birthOrder: 2, birthTime: '2026-11-28T03:18:00+00:00' } }))).not.toBe(
      demographicKey(twin1),
    );
    expect(demographicKey(adt({ baby: { multipleBirth: true, birthOrder: 2, sex: 'male' } }))).not.toBe(demographicKey(twin1));
  });

  test('names compare by their letters only', () => {
    expect(nameKey("O'Brien-Smith")).toBe('OBRIENSMITH');
    expect(nameKey('Zoë')).toBe('ZOE');
    expect(nameKey(' - ')).toBeUndefined();
  });
});

describe('compareByMotherDetails: strict agreement before two records sharing the key are one baby', () => {
  test('the same baby by two routes is the same', () => {
    expect(compareByMotherDetails(adt(), nems())).toEqual({ verdict: 'same' });
  });

  test('a disagreement wherever both give a value keeps them apart, naming the fields', () => {
    expect(compareByMotherDetails(adt(), nems({ mother: { name: { family: 'OKAFOR', given: ['GRACE'] } } }))).toEqual({
      verdict: 'ambiguous',
      fields: ['mother.name'],
    });
    expect(compareByMotherDetails(adt(), nems({ mother: { nhsNumber: '9990001596' } }))).toMatchObject({ fields: ['mother.nhsNumber'] });
    expect(compareByMotherDetails(adt(), nems({ mother: { localIdentifiers: [{ value: 'RR80000000', assigner: 'RR8' }] } }))).toMatchObject(
      { fields: ['mother.localIdentifiers'] },
    );
    expect(compareByMotherDetails(adt({ baby: { nhsNumber: '9990001596' } }), nems())).toMatchObject({ fields: ['baby.nhsNumber'] });
    expect(compareByMotherDetails(adt(), nems({ baby: { sex: 'male' } }))).toMatchObject({ fields: ['demographicKey'] });
  });

  test('twins born in the same minute, of one sex: kept apart unless both give the birth order and it agrees', () => {
    const twin1 = adt({ baby: { multipleBirth: true, birthOrder: 1 } });
    const twin2 = nems({ baby: { multipleBirth: true, birthOrder: 2 } });
    expect(compareByMotherDetails(twin1, twin2)).toMatchObject({ verdict: 'ambiguous', fields: ['baby.birthOrder'] });
    const unordered = nems({ baby: { multipleBirth: true, birthOrder: undefined } });
    delete unordered.baby.birthOrder;
    expect(compareByMotherDetails(twin1, unordered)).toMatchObject({ verdict: 'ambiguous', fields: ['baby.birthOrder'] });
    expect(compareByMotherDetails(twin1, nems({ baby: { multipleBirth: true, birthOrder: 1 } }))).toEqual({ verdict: 'same' });
  });
});

describe('applyUpdate: an update’s values replace the notification’s', () => {
  const a08 = (over: Parameters<typeof adt>[0] = {}): BirthNotification => {
    const n = adt(over);
    n.source = { ...n.source, event: 'ADT^A08', update: true };
    return n;
  };

  test('a new address, a corrected name and a phone replace the old; the fields are named, never valued', () => {
    const moved = { lines: ['2 NEW STREET'], postcode: 'LS8 3DR' };
    const u = applyUpdate(
      adt(),
      a08({
        baby: { address: moved, name: { family: 'OKAFOR', given: ['OLIVIA', 'ROSE'] } },
        mother: { address: moved, phone: '07700111222' },
      }),
    );
    expect(u.record.mother?.address).toEqual(moved);
    expect(u.record.baby.address).toEqual(moved);
    expect(u.record.baby.name?.given).toEqual(['OLIVIA', 'ROSE']);
    expect(u.record.mother?.phone).toBe('07700111222');
    expect(u.changed.sort()).toEqual(['baby.address', 'baby.name', 'mother.address', 'mother.phone']);
    expect(u.kept).toEqual([]);
  });

  test('the baby’s NHS number, now known, is filled; what the update leaves out is kept', () => {
    const update = a08({ baby: { nhsNumber: '9998853931', nhsNumberStatus: '01' } });
    delete update.gpPractice;
    delete update.mother?.phone;
    const u = applyUpdate(adt(), update);
    expect(u.record.baby.nhsNumber).toBe('9998853931');
    expect(u.record.gpPractice).toEqual({ odsCode: 'B86001' });
    expect(u.record.mother?.phone).toBe('07700475910');
    expect(u.changed).toEqual(['baby.nhsNumber', 'baby.nhsNumberStatus']);
  });

  test('identity is never replaced (another NHS number, date or time of birth, order: kept and named)', () => {
    const u = applyUpdate(
      adt({ baby: { nhsNumber: '9998853931' } }),
      a08({ baby: { nhsNumber: '9990001596', birthDate: '2026-11-27', birthTime: '2026-11-28T05:00:00Z' } }),
    );
    expect(u.record.baby.nhsNumber).toBe('9998853931');
    expect(u.record.baby.birthDate).toBe('2026-11-28');
    expect(u.record.baby.birthTime).toBe('2026-11-28T03:04:00+00:00');
    expect(u.kept.sort()).toEqual(['baby.birthDate', 'baby.birthTime', 'baby.nhsNumber']);
  });

  test('a restriction only rises; the life status is not touched here', () => {
    const restricted = a08();
    restricted.confidentiality = 'restricted';
    const up = applyUpdate(adt(), restricted);
    expect(up.record.confidentiality).toBe('restricted');
    expect(up.changed).toEqual(['confidentiality']);
    const lifted = applyUpdate(up.record, a08());
    expect(lifted.record.confidentiality).toBe('restricted');
    expect(lifted.kept).toEqual(['confidentiality']);
    expect(applyUpdate(adt(), a08({ baby: { deceased: true } })).record.baby.deceased).toBe(false);
  });

  test('an update that says nothing new changes nothing', () => {
    expect(applyUpdate(adt(), a08())).toMatchObject({ changed: [], kept: [] });
  });
});
