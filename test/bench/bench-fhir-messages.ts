/**
 * The FHIR mode's messages: FHIR R4 birth message Bundles for the sample FHIR feed (northgate-fhir), made from the
 * README's quick-start template (test/fixtures/sample-fhir-birth.json), each a distinct birth that the sample
 * configuration routes to a centre: a unique Bundle.id and MessageHeader.id, and the baby's and the mother's NHS
 * numbers, names, sex, birth date and postcode of a synthetic newborn (valid by Modulus 11, checked here).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/config/env.js';
import { isValidNhsNumber } from '../../src/domain/nhs-number.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { BENCH_POSTCODES } from './bench-messages.js';

/** The template's values that each message replaces, and the placeholder each becomes. */
const SLOTS = [
  ['quickstart-__ID__', '__ID__'],
  ['"9990002002"', '"__BABY_NHS__"'],
  ['"9990009503"', '"__MOTHER_NHS__"'],
  ['"LS9 7AB"', '"__POSTCODE__"'],
  ['"OKONKWO-BRIGGS"', '"__FAMILY__"'],
  ['"AMARA"', '"__BABY_GIVEN__"'],
  ['"GRACE"', '"__MOTHER_GIVEN__"'],
  ['"gender": "female"', '"gender": "__SEX__"'],
  ['"1993-04-17"', '"__MOTHER_DOB__"'],
  ['MRNQUICK1', '__MRN__'],
] as const;

/** The template, read once, with a placeholder for everything a message changes; fails if the fixture no longer holds a value. */
function template(): string {
  let text = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'sample-fhir-birth.json'), 'utf8');
  for (const [value, slot] of SLOTS) {
    if (!text.includes(value))
      throw new Error(`test/fixtures/sample-fhir-birth.json no longer contains ${value}: update bench-fhir-messages.ts`);
    text = text.replaceAll(value, slot);
  }
  // Compact: the bytes a sender would post, without the fixture's indentation.
  return JSON.stringify(JSON.parse(text));
}

let cached: string | undefined;

/**
 * Pre-generates `count` distinct FHIR R4 birth messages (JSON). Bundle.id is `${idPrefix}${i}` and MessageHeader.id
 * `${idPrefix}${i}-h`, so the stored control id (`Bundle.id/MessageHeader.id`) starts with `idPrefix`. As for HL7 v2,
 * seeds whose baby NHS number was already used (`usedNhs`, shared with the HL7 v2 phases) are skipped.
 */
export function generateFhirBirths(count: number, idPrefix: string, usedNhs: Set<string>, nextSeed: { value: number }): Buffer[] {
  cached ??= template();
  const out: Buffer[] = [];
  const now = new Date();
  const nowText = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  while (out.length < count) {
    const n = describeNewborn({ seed: nextSeed.value++, messageTime: now, postcodes: BENCH_POSTCODES });
    const mother = n.mother;
    if (usedNhs.has(n.baby.nhsNumber) || !mother) continue;
    if (!isValidNhsNumber(n.baby.nhsNumber) || !isValidNhsNumber(mother.nhsNumber))
      throw new Error('the synthetic newborn generator made an NHS number that fails Modulus 11');
    usedNhs.add(n.baby.nhsNumber);
    const id = `${idPrefix}${out.length}`;
    const text = cached
      .replaceAll('__ID__', id)
      .replace('__NOW__', nowText)
      .replace('__TODAY__', n.baby.birthDate)
      .replace('__BABY_NHS__', n.baby.nhsNumber)
      .replace('__MOTHER_NHS__', mother.nhsNumber)
      .replaceAll('__POSTCODE__', n.baby.postcode)
      .replaceAll('__FAMILY__', n.baby.family)
      .replace('__BABY_GIVEN__', n.baby.given)
      .replace('__MOTHER_GIVEN__', mother.given)
      .replace('__SEX__', n.baby.sex)
      .replace('__MOTHER_DOB__', mother.birthDate)
      .replace('__MRN__', n.baby.mrn);
    out.push(Buffer.from(text, 'utf8'));
  }
  return out;
}
