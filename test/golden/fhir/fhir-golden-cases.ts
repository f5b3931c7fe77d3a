/**
 * The FHIR R4 golden cases: each input Bundle is built once by the synthetic generator (options here) and
 * committed as `<case>.bundle.json`; `<case>.expected.json` holds the canonical record (or why there is none)
 * and the answer. Received shortly after the message time.
 */
import type { FhirBirthOptions } from '../../support/synthetic/fhir-birth.js';

export const FHIR_GOLDEN_RECEIVED_AT = new Date('2026-11-20T10:15:00Z');
const base = { timestamp: '2026-11-20T10:14:30+00:00', birthDate: '2026-11-19', birthTime: '2026-11-19T22:41:00+00:00' };

export interface FhirGoldenCase {
  name: string;
  bundle: FhirBirthOptions;
}

export const FHIR_GOLDEN_CASES: readonly FhirGoldenCase[] = [
  {
    name: 'single-newborn',
    bundle: {
      ...base,
      bundleId: 'gold-f0001',
      babyNhsNumber: '9990001561',
      motherNhsNumber: '9990009503',
      weightGrams: 3420,
      gestationDays: 274,
    },
  },
  {
    name: 'mother-as-patient',
    bundle: { ...base, bundleId: 'gold-f0002', babyNhsNumber: '9990001588', motherNhsNumber: '9990009503', motherAs: 'patient' },
  },
  {
    name: 'restricted',
    bundle: { ...base, bundleId: 'gold-f0003', babyNhsNumber: '9990001596', motherNhsNumber: '9990009503', confidentiality: 'R' },
  },
  { name: 'very-restricted', bundle: { ...base, bundleId: 'gold-f0004', babyNhsNumber: '9990001502', confidentiality: 'V' } },
  {
    name: 'deceased-baby',
    bundle: {
      ...base,
      bundleId: 'gold-f0005',
      babyNhsNumber: '9990001510',
      motherNhsNumber: '9990009503',
      deceased: '2026-11-20T03:10:00+00:00',
    },
  },
  {
    name: 'twin-1',
    bundle: {
      ...base,
      bundleId: 'gold-f0006',
      babyNhsNumber: '9990001529',
      motherNhsNumber: '9990009503',
      birthOrder: 1,
      numberOfBirths: 2,
      weightGrams: 2480,
    },
  },
  {
    name: 'twin-2',
    bundle: {
      ...base,
      birthTime: '2026-11-19T22:58:00+00:00',
      bundleId: 'gold-f0007',
      babyNhsNumber: '9990001537',
      babyGiven: 'ADAEZE',
      motherNhsNumber: '9990009503',
      birthOrder: 2,
      numberOfBirths: 2,
      weightGrams: 2310,
    },
  },
  { name: 'invalid-nhs-number', bundle: { ...base, bundleId: 'gold-f0008', babyNhsNumber: '9990001562', motherNhsNumber: '9990009503' } },
  {
    name: 'not-a-newborn',
    bundle: {
      ...base,
      bundleId: 'gold-f0009',
      birthDate: '2025-02-01',
      birthTime: '2025-02-01T08:00:00+00:00',
      babyNhsNumber: '9990001561',
    },
  },
  {
    name: 'unknown-event',
    bundle: {
      ...base,
      bundleId: 'gold-f0010',
      babyNhsNumber: '9990001561',
      event: { system: 'https://fhir.nhs.uk/CodeSystem/message-event', code: 'encounter' },
    },
  },
];
