import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import { validateBirthNotificationShape } from '../../../src/domain/birth-notification.schema.js';

/** Every optional field populated: if the TS type gains a field the schema lacks, this must be updated. */
export const full: Required<BirthNotification> = {
  baby: {
    nhsNumber: '9000000009',
    nhsNumberStatus: '01',
    localIdentifiers: [{ value: 'RR81234567', assigner: 'RR8', type: 'MR' }],
    name: { family: 'SMITH', given: ['OLIVIA', 'ROSE'], prefix: 'MISS' },
    sex: 'female',
    birthDate: '2025-06-15',
    birthTime: '2025-06-15T00:30:00+01:00',
    multipleBirth: true,
    birthOrder: 2,
    birthPlace: 'LEEDS GENERAL INFIRMARY',
    address: { lines: ['1 MILL LANE'], city: 'LEEDS', county: 'WEST YORKSHIRE', postcode: 'LS9 7TF', country: 'GBR' },
    deceased: true,
    deceasedAt: '2025-06-15T00:45:00+01:00',
  },
  mother: {
    nhsNumber: '9449307946',
    localIdentifiers: [],
    name: { family: 'SMITH', given: ['EMMA'] },
    birthDate: '1990-02-01',
    address: { lines: ['1 MILL LANE'], postcode: 'LS9 7TF' },
    phone: '07700900000',
    preferredLanguage: 'EN',
  },
  gpPractice: { odsCode: 'B86001', name: 'A PRACTICE' },
  birthDetails: { weightGrams: 3400, gestationWeeks: 39 },
  confidentiality: 'restricted',
  source: { format: 'hl7v2', feedId: 'leeds', messageControlId: 'C1', event: 'ADT^A28' },
  consents: [
    {
      kind: 'objection',
      scope: 'offer-of-support',
      purpose: 'offer of early support',
      recipient: 'any',
      from: '2025-06-01',
      to: '2026-06-01',
      source: 'hl7v2',
      motherNhsNumber: '9449307946',
      babyNhsNumber: '9000000009',
    },
  ],
};

const minimal: BirthNotification = {
  baby: { localIdentifiers: [], birthDate: '2025-06-15', deceased: false },
  confidentiality: 'normal',
  source: { format: 'fhir-r4', feedId: 'f', messageControlId: 'b1', event: 'pds-birth-notification-1' },
};

describe('BirthNotification JSON Schema', () => {
  it('accepts fully populated and minimal typed records', () => {
    expect(validateBirthNotificationShape(full)).toBe(true);
    expect(validateBirthNotificationShape(minimal)).toBe(true);
  });

  it('rejects extra fields at every level', () => {
    for (const bad of [
      { ...minimal, extra: 1 },
      { ...minimal, baby: { ...minimal.baby, weight: 3 } },
      { ...full, mother: { ...full.mother, maidenName: 'X' } },
      { ...full, baby: { ...full.baby, address: { ...full.baby.address, uprn: '1' } } },
    ]) {
      expect(validateBirthNotificationShape(bad)).toBe(false);
    }
  });

  it('checks formats and patterns', () => {
    const bad = (baby: object) => validateBirthNotificationShape({ ...minimal, baby: { ...minimal.baby, ...baby } });
    expect(bad({ nhsNumber: '900000000' })).toBe(false);
    expect(bad({ birthDate: '2025-13-01' })).toBe(false);
    expect(bad({ birthTime: '2025-06-15T00:30:00' })).toBe(false); // no offset
    expect(bad({ address: { lines: [], postcode: 'ls9 7tf' } })).toBe(false);
    expect(bad({ deceasedAt: '2025-06-15' })).toBe(true);
    expect(bad({ deceasedAt: 'yesterday' })).toBe(false);
    expect(bad({ sex: 'M' })).toBe(false);
    expect(bad({ nhsNumberStatus: 'NSTS01' })).toBe(false);
    expect(validateBirthNotificationShape({ ...minimal, baby: undefined })).toBe(false);
  });
});
