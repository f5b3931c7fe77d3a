import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import { validateNotification } from '../../../src/pipeline/validate-notification.js';

const now = new Date('2025-06-15T12:00:00Z');
const ok: BirthNotification = {
  baby: {
    nhsNumber: '9000000009',
    localIdentifiers: [],
    birthDate: '2025-06-15',
    birthTime: '2025-06-15T00:30:00+01:00',
    deceased: false,
    address: { lines: ['1 MILL LANE'], postcode: 'LS9 7TF' },
  },
  mother: { nhsNumber: '9449307946', localIdentifiers: [], birthDate: '1990-01-01' },
  confidentiality: 'normal',
  source: { format: 'hl7v2', feedId: 'f', messageControlId: 'c', event: 'ADT^A28' },
};
const withBaby = (b: Partial<BirthNotification['baby']>): BirthNotification => ({ ...ok, baby: { ...ok.baby, ...b } });

describe('validateNotification', () => {
  it('accepts a good record', () => expect(validateNotification(ok, now)).toEqual([]));

  it('reports NHS numbers with path and HL7 location, without the value', () => {
    const issues = validateNotification(withBaby({ nhsNumber: '9219068409' }), now, (p) =>
      p === 'baby.nhsNumber' ? { segment: 'PID', field: 3 } : undefined,
    );
    expect(issues).toEqual([
      {
        severity: 'error',
        code: '102',
        path: 'baby.nhsNumber',
        location: { segment: 'PID', field: 3 },
        message: 'baby.nhsNumber fails the NHS number Modulus 11 check',
      },
    ]);
    const mother = validateNotification({ ...ok, mother: { localIdentifiers: [], nhsNumber: '1112223330' } }, now);
    expect(mother).toMatchObject([{ severity: 'error', code: '102', path: 'mother.nhsNumber' }]);
    expect(validateNotification(withBaby({ nhsNumber: 'this is a test NHS number' }), now)).toMatchObject([
      { severity: 'error', path: 'baby.nhsNumber', message: 'baby.nhsNumber is not a ten-digit NHS number' },
    ]);
  });

  it('warns on postcodes that are not normalised UK postcodes', () => {
    expect(validateNotification(withBaby({ address: { lines: [], postcode: 'LEN 7TF' } }), now)).toMatchObject([
      { severity: 'warning', path: 'baby.address.postcode' },
    ]);
    expect(validateNotification(withBaby({ address: { lines: [], postcode: 'ls97tf' } }), now)).toMatchObject([
      { severity: 'warning', message: 'baby.address.postcode is not in the normalised form' },
    ]);
  });

  it('rejects births in the future, before the mother, and deaths before birth', () => {
    expect(validateNotification(withBaby({ birthTime: '2025-06-15T14:00:00+01:00' }), now)).toMatchObject([
      { severity: 'error', path: 'baby.birthTime' },
    ]);
    expect(validateNotification(withBaby({ birthDate: '2025-06-16', birthTime: undefined }), now)).toMatchObject([
      { severity: 'error', path: 'baby.birthDate' },
    ]);
    // 13:03 BST is 12:03Z: within the five-minute clock-skew allowance.
    expect(validateNotification(withBaby({ birthTime: '2025-06-15T13:03:00+01:00' }), now)).toEqual([]);
    expect(validateNotification({ ...ok, mother: { localIdentifiers: [], birthDate: '2025-06-15' } }, now)).toMatchObject([
      { severity: 'error', path: 'baby.birthDate' },
    ]);
    expect(validateNotification(withBaby({ deceased: true, deceasedAt: '2025-06-14T23:00:00+00:00' }), now)).toMatchObject([
      { severity: 'error', path: 'baby.deceasedAt' },
    ]);
    expect(validateNotification(withBaby({ deceased: true, deceasedAt: '2025-06-15' }), now)).toEqual([]);
  });

  it('turns schema violations into issues with paths', () => {
    const bad = { ...ok, baby: { ...ok.baby, birthOrder: 0 }, extra: true } as unknown as BirthNotification;
    const issues = validateNotification(bad, now);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'error', code: '207', path: 'extra' }),
        expect.objectContaining({ severity: 'error', code: '102', path: 'baby.birthOrder' }),
      ]),
    );
    const missing = { ...ok, source: { ...ok.source, messageControlId: undefined } } as unknown as BirthNotification;
    expect(
      validateNotification(missing, now, (p) => (p === 'source.messageControlId' ? { segment: 'MSH', field: 10 } : undefined)),
    ).toMatchObject([{ code: '101', path: 'source.messageControlId', location: { segment: 'MSH', field: 10 } }]);
  });
});
