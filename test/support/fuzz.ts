import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CR, FS, VT } from '../../adapters/mllp/mllp-framer.js';
import { corpusPath } from './corpus.js';
import { aeAttendance } from './synthetic/ae-attendance.js';
import { bookingMessage, lossMessage, type ExpectingMotherFixture } from './synthetic/antenatal-booking.js';
import { asJson, asXml } from './synthetic/fhir-birth.js';
import { fhirBookingBundle, fhirLossBundle, type FhirMotherFixture } from './synthetic/fhir-booking.js';

/**
 * Fuzzing support for the security suite (issue 16 item 5): a seeded PRNG, the corpus messages to start from,
 * and mutations of them. The same seed and count give the same inputs, so a failure in CI is reproduced
 * locally with the seed it printed. `STORK_FUZZ_COUNT` (default 300 per target) and `STORK_FUZZ_SEED` choose.
 */

export const FUZZ_COUNT = positive(process.env.STORK_FUZZ_COUNT) ?? 300;
export const FUZZ_SEED = positive(process.env.STORK_FUZZ_SEED) ?? 16;

function positive(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
}

/** mulberry32: small, fast, and the same sequence on every machine. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
}

const SEED_MOTHER: ExpectingMotherFixture = { nhs: '9990001561', family: 'FUZZWORTH', given: 'ADA', dob: '19900101', postcode: 'LS9 7AB' };
const SEED_FHIR_MOTHER: FhirMotherFixture = {
  nhs: '9990001561',
  family: 'FUZZWORTH',
  given: 'ADA',
  birthDate: '1990-01-01',
  postcode: 'LS9 7AB',
};

/**
 * Messages of the sample's booking and A&E feeds (issue 17), so that mutations reach their mappings: the HL7 v2 booking
 * (SIU^S12, ADT^A05 with a CON), the losses (ADT^A38, ADT^A08 with a SNOMED CT outcome) and an A&E ADT^A04.
 */
function stork17Hl7v2(): Buffer[] {
  return [
    bookingMessage(SEED_MOTHER, { controlId: 'FZ-S12', dueDate: '20270410', pregnancyId: 'P1' }),
    bookingMessage(SEED_MOTHER, { controlId: 'FZ-A05', dueDate: '20270410', pregnancyId: 'P1', consent: 'A', type: 'ADT^A05' }),
    lossMessage(SEED_MOTHER, { controlId: 'FZ-A38', pregnancyId: 'P1' }),
    lossMessage(SEED_MOTHER, { controlId: 'FZ-A08', outcomeCode: '17369002' }),
    aeAttendance({
      controlId: 'FZ-A04',
      nhsNumber: '9990001561',
      family: 'FUZZWORTH',
      given: 'ADA',
      birthDate: '19900101',
      diagnoses: ['F10.0^Acute alcohol intoxication^I10'],
      at: new Date('2026-11-29T10:15:00Z'),
    }),
  ].map((m) => Buffer.from(m, 'latin1'));
}

/** FHIR R4 bookings and pregnancy outcomes for the Northgate FHIR feed (issue 17), JSON and XML. */
function stork17Fhir(): { bytes: Buffer; encoding: 'json' | 'xml' }[] {
  const bundles = [
    fhirBookingBundle(SEED_FHIR_MOTHER, { bundleId: 'fz-booking', dueDate: '2027-04-10', pregnancyId: 'EP-1', consent: true }),
    fhirBookingBundle(SEED_FHIR_MOTHER, { bundleId: 'fz-booking-cond', dueDateExtension: '2027-04-10', noEpisode: true }),
    fhirLossBundle(SEED_FHIR_MOTHER, { bundleId: 'fz-loss', pregnancyId: 'EP-1' }),
    fhirLossBundle(SEED_FHIR_MOTHER, { bundleId: 'fz-loss-obs', as: 'observation', code: '237364002' }),
    fhirLossBundle(SEED_FHIR_MOTHER, { bundleId: 'fz-loss-episode', as: 'ended-episode', pregnancyId: 'EP-1' }),
  ];
  return bundles.flatMap((b) => [
    { bytes: Buffer.from(asJson(b)), encoding: 'json' as const },
    { bytes: Buffer.from(asXml(b)), encoding: 'xml' as const },
  ]);
}

/**
 * Every HL7 v2 message file of the corpus, segments ended by CR as on the wire (MLLP-framed files unframed), and the
 * sample's booking, loss and A&E messages.
 */
export function hl7v2Seeds(): Buffer[] {
  const corpus: Buffer[] = filesUnder(corpusPath('hl7v2'))
    .filter((f) => !/\.(tsv|json|md)$/.test(f))
    .map((f) => {
      const bytes = readFileSync(f);
      const unframed = Buffer.from(bytes.filter((b) => b !== VT && b !== FS));
      return Buffer.from(unframed.toString('latin1').replace(/\r\n|\n/g, '\r'), 'latin1');
    })
    .filter((b) => b.length > 0);
  return [...corpus, ...stork17Hl7v2()];
}

/** The corpus's FHIR R4 JSON and XML resources (UK Core, PDS), with their encoding, and the sample's bookings and losses. */
export function fhirSeeds(): { bytes: Buffer; encoding: 'json' | 'xml' }[] {
  const dir = corpusPath('fhir');
  const corpus: { bytes: Buffer; encoding: 'json' | 'xml' }[] = ['ukcore-r4', 'ukcore-r4-json', 'pds-r4-patient', 'pds-r4-record-at-birth']
    .flatMap((sub) => filesUnder(path.join(dir, sub)))
    .filter((f) => /\.(json|xml)$/.test(f))
    .map((f) => ({ bytes: readFileSync(f), encoding: f.endsWith('.xml') ? ('xml' as const) : ('json' as const) }));
  return [...corpus, ...stork17Fhir()];
}

/** Gives an HL7 v2 message MSH-10 = `id` (whatever its field separator), so inputs are not taken for re-sends. */
export function withControlId(message: Buffer, id: string): Buffer {
  const text = message.toString('latin1');
  if (!text.startsWith('MSH') || text.length < 4) return message;
  const sep = text[3] ?? '|';
  const end = text.indexOf('\r');
  const msh = end === -1 ? text : text.slice(0, end);
  const fields = msh.split(sep);
  while (fields.length < 11) fields.push('');
  fields[9] = id;
  return Buffer.from(fields.join(sep) + (end === -1 ? '' : text.slice(end)), 'latin1');
}

export type Mutation = 'byte-flip' | 'truncate' | 'duplicate-segment' | 'delimiter-swap' | 'huge-field' | 'frame-bytes';

export const MUTATIONS: readonly Mutation[] = ['byte-flip', 'truncate', 'duplicate-segment', 'delimiter-swap', 'huge-field', 'frame-bytes'];

const DELIMITERS = [0x7c, 0x5e, 0x7e, 0x5c, 0x26, CR, 0x0a, 0x22, 0x7b, 0x7d, 0x3c, 0x3e, 0x3a, 0x2c]; // | ^ ~ \ & CR LF " { } < > : ,

/** One mutation of `input`; huge fields stay under `maxHuge` bytes in all. */
export function mutate(input: Buffer, kind: Mutation, r: Prng, maxHuge = 300_000): Buffer {
  const out = Buffer.from(input);
  switch (kind) {
    case 'byte-flip': {
      for (let n = 1 + r.int(8); n > 0 && out.length > 0; n--) {
        const i = r.int(out.length);
        out[i] = (out[i] ?? 0) ^ (1 << r.int(8));
      }
      return out;
    }
    case 'truncate':
      return out.subarray(0, r.int(out.length + 1));
    case 'duplicate-segment': {
      const text = out.toString('latin1');
      const segments = text.split(/(?<=[\r\n])/);
      const i = r.int(segments.length);
      const times = r.pick([1, 2, 10, 200, 2000]);
      const seg = segments[i] ?? '';
      segments.splice(i, 0, ...Array.from({ length: Math.min(times, Math.floor(maxHuge / Math.max(1, seg.length))) }, () => seg));
      return Buffer.from(segments.join(''), 'latin1');
    }
    case 'delimiter-swap': {
      const a = r.pick(DELIMITERS);
      const b = r.pick(DELIMITERS);
      const everywhere = r.next() < 0.5;
      for (let i = 0; i < out.length; i++) {
        if (out[i] === a && (everywhere || r.next() < 0.2)) out[i] = b;
        else if (out[i] === b && (everywhere || r.next() < 0.2)) out[i] = a;
      }
      return out;
    }
    case 'huge-field': {
      const size = r.pick([1_000, 65_536, 100_000, maxHuge]);
      const fill = r.pick([0x41, 0x7c, 0x5e, 0x7e, 0x5c, 0x26, 0x20, 0xe9, 0x0d, 0x7b, 0x5b, 0x3c]);
      const at = r.int(out.length + 1);
      return Buffer.concat([out.subarray(0, at), Buffer.alloc(size, fill), out.subarray(at)]);
    }
    case 'frame-bytes': {
      const parts: Buffer[] = [];
      let last = 0;
      const cuts = Array.from({ length: 1 + r.int(4) }, () => r.int(out.length + 1)).sort((x, y) => x - y);
      for (const at of cuts) {
        parts.push(out.subarray(last, at), Buffer.from([r.pick([VT, FS, CR, 0x00])]).subarray(0, 1));
        if (r.next() < 0.3) parts.push(Buffer.from([FS, CR]));
        last = at;
      }
      parts.push(out.subarray(last));
      return Buffer.concat(parts);
    }
  }
}

/** One fuzz input: 1 to 3 mutations of a seed, named so a failure says what was done. */
export function fuzzInput(seeds: readonly Buffer[], r: Prng, kinds: readonly Mutation[] = MUTATIONS): { bytes: Buffer; name: string } {
  const seedIndex = r.int(seeds.length);
  let bytes = seeds[seedIndex] ?? Buffer.alloc(0);
  const done: Mutation[] = [];
  for (let n = 1 + r.int(3); n > 0; n--) {
    const kind = r.pick(kinds);
    bytes = mutate(bytes, kind, r);
    done.push(kind);
  }
  return { bytes, name: `seed ${seedIndex} + ${done.join(', ')}` };
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}
