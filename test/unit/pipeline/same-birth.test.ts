import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import { birthKey, compareBirths, mergeRecords, statedBirthOrder } from '../../../src/pipeline/same-birth.js';

/** The trust's ADT: local id only, mother's NHS number, an unverified number status would be '02'. */
function adt(over: { baby?: Partial<BirthNotification['baby']>; top?: Partial<BirthNotification> } = {}): BirthNotification {
  return {
    baby: {
      localIdentifiers: [{ value: 'RR81234567', assigner: 'RR8', type: 'MR' }],
      name: { family: 'OKAFOR', given: ['OLIVIA'] },
      sex: 'female',
      birthDate: '2026-11-28',
      birthTime: '2026-11-28T03:04:00+00:00',
      multipleBirth: false,
      deceased: false,
      ...over.baby,
    },
    mother: { nhsNumber: '9995875217', localIdentifiers: [], name: { family: 'OKAFOR', given: ['CHLOE'] }, phone: '07700475910' },
    confidentiality: 'normal',
    source: { format: 'hl7v2', feedId: 'leeds-pas', messageControlId: 'C1', event: 'ADT^A28' },
    ...over.top,
  };
}

/** The national birth notification of the same baby: NHS number verified, GP, birth order 1, times with seconds. */
function nems(over: { baby?: Partial<BirthNotification['baby']>; top?: Partial<BirthNotification> } = {}): BirthNotification {
  return {
    baby: {
      nhsNumber: '9998853931',
      nhsNumberStatus: '01',
      localIdentifiers: [],
      name: { family: 'OKAFOR', given: ['OLIVIA'] },
      sex: 'female',
      birthDate: '2026-11-28',
      birthTime: '2026-11-28T03:04:30Z',
      birthOrder: 1,
      multipleBirth: false,
      address: { lines: ['47 PARK AVENUE'], postcode: 'LS9 7AB' },
      deceased: false,
      ...over.baby,
    },
    mother: { nhsNumber: '9995875217', localIdentifiers: [], name: { family: 'OKAFOR', given: ['CHLOE'] }, birthDate: '2002-03-03' },
    gpPractice: { odsCode: 'Y99901', name: 'WYKEBECK MEDICAL PRACTICE' },
    birthDetails: { weightGrams: 3310 },
    confidentiality: 'normal',
    source: { format: 'nems-stu3', feedId: 'nems-births', messageControlId: 'B1', event: 'pds-birth-notification-1' },
    ...over.top,
  };
}

describe('birthKey: what two routes share for one baby', () => {
  test('mother NHS number, date of birth, birth order; a singleton is order 1 whichever way it is said', () => {
    expect(birthKey(adt())).toBe('birth:9995875217:2026-11-28:1');
    expect(birthKey(nems())).toBe('birth:9995875217:2026-11-28:1');
    expect(statedBirthOrder({ ...adt().baby, multipleBirth: false })).toBe(1);
  });

  test('twins have different keys', () => {
    expect(birthKey(adt({ baby: { multipleBirth: true, birthOrder: 1 } }))).not.toBe(
      birthKey(adt({ baby: { multipleBirth: true, birthOrder: 2 } })),
    );
  });

  test('no key without the mother NHS number, nor for a twin without its order (it could be either twin)', () => {
    expect(birthKey({ ...adt(), mother: { localIdentifiers: [] } })).toBeUndefined();
    expect(birthKey({ ...adt(), mother: undefined })).toBeUndefined();
    expect(birthKey(adt({ baby: { multipleBirth: true } }))).toBeUndefined();
    const unknown = adt();
    delete unknown.baby.multipleBirth;
    expect(birthKey(unknown)).toBeUndefined();
  });
});

describe('compareBirths: the same baby only when nothing says otherwise', () => {
  test('the ADT and the national notification of one baby are the same (time to the minute, seconds aside)', () => {
    expect(compareBirths(adt(), nems())).toEqual({ verdict: 'same' });
    expect(compareBirths(nems(), adt())).toEqual({ verdict: 'same' });
  });

  test('a different time of birth (twins are minutes apart), or none on either side, is ambiguous', () => {
    expect(compareBirths(adt(), nems({ baby: { birthTime: '2026-11-28T03:18:00Z' } }))).toEqual({
      verdict: 'ambiguous',
      fields: ['baby.birthTime'],
    });
    const noTime = nems();
    delete noTime.baby.birthTime;
    expect(compareBirths(adt(), noTime)).toEqual({ verdict: 'ambiguous', fields: ['baby.birthTime'] });
  });

  test('sex, NHS number and multiple-birth flag must agree when both give them', () => {
    const verdict = compareBirths(adt({ baby: { nhsNumber: '9434765919' } }), nems({ baby: { sex: 'male', multipleBirth: true } }));
    expect(verdict).toEqual({ verdict: 'ambiguous', fields: ['baby.nhsNumber', 'baby.sex', 'baby.multipleBirth'] });
    expect(compareBirths(adt({ baby: { sex: 'unknown' } }), nems())).toEqual({ verdict: 'same' });
  });

  test('twin 1 and twin 2 of one mother are never the same', () => {
    const one = adt({ baby: { multipleBirth: true, birthOrder: 1 } });
    const two = nems({ baby: { multipleBirth: true, birthOrder: 2, birthTime: '2026-11-28T03:04:00Z' } });
    expect(compareBirths(one, two)).toEqual({ verdict: 'ambiguous', fields: ['baby.birthOrder'] });
  });

  test('the mother NHS number and date of birth (the key) are checked too', () => {
    const other = nems({ baby: { birthDate: '2026-11-27' } });
    other.mother = { nhsNumber: '9990009503', localIdentifiers: [] };
    expect(compareBirths(adt(), other)).toEqual({ verdict: 'ambiguous', fields: ['mother.nhsNumber', 'baby.birthDate'] });
  });
});

describe('mergeRecords: what the notification lacks is filled in; a conflict keeps the first value', () => {
  test('the national notification enriches the ADT: NHS number and its verified status, address, GP, mother date of birth, weight', () => {
    const first = adt();
    const m = mergeRecords(first, nems());
    expect(m.enriched).toEqual([
      'baby.nhsNumber',
      'baby.nhsNumberStatus',
      'baby.birthOrder',
      'baby.address',
      'mother.birthDate',
      'gpPractice',
      'birthDetails.weightGrams',
    ]);
    // The two times are written differently (offset, seconds) but are the same minute: no conflict.
    expect(m.conflicts).toEqual([]);
    expect(m.record.baby).toMatchObject({ nhsNumber: '9998853931', nhsNumberStatus: '01', birthTime: '2026-11-28T03:04:00+00:00' });
    expect(m.record.gpPractice).toEqual({ odsCode: 'Y99901', name: 'WYKEBECK MEDICAL PRACTICE' });
    expect(m.record.mother?.phone).toBe('07700475910');
    expect(m.record.source).toEqual(first.source);
    // The notification's record is not changed in place.
    expect(first.baby.nhsNumber).toBeUndefined();
  });

  test('a verified NHS number status replaces an unverified one; an unverified one never replaces a verified one', () => {
    const unverified = nems({ baby: { nhsNumberStatus: '02' } });
    expect(mergeRecords(unverified, nems()).enriched).toEqual(['baby.nhsNumberStatus']);
    expect(mergeRecords(unverified, nems()).record.baby.nhsNumberStatus).toBe('01');
    const back = mergeRecords(nems(), unverified);
    expect(back.record.baby.nhsNumberStatus).toBe('01');
    expect(back.conflicts).toEqual(['baby.nhsNumberStatus']);
  });

  test('conflicting values are kept as first sent and named, never their values', () => {
    const later = nems({
      baby: { name: { family: 'SMITH', given: ['OLIVIA'] }, birthTime: '2026-11-28T03:06:00Z' },
      top: { gpPractice: { odsCode: 'B86001' } },
    });
    const m = mergeRecords(nems(), later);
    expect(m.enriched).toEqual([]);
    expect(m.conflicts).toEqual(['baby.name', 'baby.birthTime', 'gpPractice']);
    expect(m.record.baby.birthTime).toBe('2026-11-28T03:04:30Z');
    expect(m.record.baby.name?.family).toBe('OKAFOR');
    expect(JSON.stringify([m.enriched, m.conflicts])).not.toMatch(/SMITH|B86001/);
  });

  test('local identifiers are united; a mother the notification lacked is taken whole', () => {
    const first = nems();
    delete first.mother;
    const m = mergeRecords(first, adt());
    expect(m.enriched).toEqual(['baby.localIdentifiers', 'mother']);
    expect(m.record.baby.localIdentifiers).toEqual([{ value: 'RR81234567', assigner: 'RR8', type: 'MR' }]);
    expect(m.record.mother?.phone).toBe('07700475910');
    expect(mergeRecords(m.record, adt()).enriched).toEqual([]);
  });

  test('a later record marked restricted makes the notification restricted (never less), named as a conflict', () => {
    const m = mergeRecords(adt(), nems({ top: { confidentiality: 'restricted' } }));
    expect(m.record.confidentiality).toBe('restricted');
    expect(m.conflicts).toContain('confidentiality');
    const back = mergeRecords(nems({ top: { confidentiality: 'restricted' } }), adt());
    expect(back.record.confidentiality).toBe('restricted');
  });

  test('the life status is never merged: a death is a withdrawal, decided elsewhere', () => {
    const m = mergeRecords(adt(), nems({ baby: { deceased: true } }));
    expect(m.record.baby.deceased).toBe(false);
  });
});
