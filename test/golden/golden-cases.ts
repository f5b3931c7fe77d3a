/**
 * The golden cases: how each fixture was generated (once) and with which mapping and context it is
 * mapped. Fixtures are committed; the generator options stay here so a case can be re-generated and
 * reviewed by hand if the generator changes.
 */
import type { NewbornAdtOptions } from '../support/synthetic/newborn-adt.js';

/** One golden case. `corpus` cases read their input from the shared corpus instead of a fixture. */
export interface GoldenCase {
  name: string;
  mapping: string;
  generate?: NewbornAdtOptions;
  corpus?: string;
}

/** Reception context used for every case: shortly after the synthetic message time. */
export const GOLDEN_CONTEXT = { feedId: 'leeds-pas', receivedAt: new Date('2025-06-15T09:00:05Z') };

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'single-newborn', mapping: 'itk-adt', generate: { seed: 101, controlId: 'GOLD0001' } },
  { name: 'twin-1', mapping: 'itk-adt', generate: { seed: 102, birthOrder: 1, controlId: 'GOLD0002' } },
  { name: 'twin-2', mapping: 'itk-adt', generate: { seed: 102, birthOrder: 2, controlId: 'GOLD0003' } },
  { name: 'stillbirth', mapping: 'itk-adt', generate: { seed: 103, deceased: true, controlId: 'GOLD0004' } },
  { name: 'restricted', mapping: 'itk-adt', generate: { seed: 104, restricted: true, controlId: 'GOLD0005' } },
  { name: 'invalid-nhs-number', mapping: 'itk-adt', generate: { seed: 105, invalidNhsNumber: true, controlId: 'GOLD0006' } },
  { name: 'non-birth-adult-a08', mapping: 'itk-adt', generate: { seed: 106, event: 'A08', adult: true, controlId: 'GOLD0007' } },
  { name: 'adult-a28-not-newborn', mapping: 'itk-adt', generate: { seed: 107, adult: true, controlId: 'GOLD0008' } },
  { name: 'lf-line-endings', mapping: 'itk-adt', generate: { seed: 108, lineEnding: '\n', controlId: 'GOLD0009' } },
  { name: 'escapes', mapping: 'itk-adt', generate: { seed: 109, escapes: true, controlId: 'GOLD0010' } },
  { name: 'mother-pid21-only', mapping: 'itk-adt', generate: { seed: 110, motherVia: 'pid21', controlId: 'GOLD0011' } },
  {
    name: 'northvale-quirks',
    mapping: 'northvale-trust',
    generate: { seed: 111, northvale: true, restricted: true, sendingFacility: 'RX9', controlId: 'GOLD0012' },
  },
  { name: 'death-update-a08', mapping: 'itk-adt', generate: { seed: 112, event: 'A08', deceased: true, controlId: 'GOLD0013' } },
  { name: 'itk-a28-example', mapping: 'itk-adt', corpus: 'hl7v2/nhs-itk-uk/A28_Example.hl7' },
];
