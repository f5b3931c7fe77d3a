/**
 * The named TypeScript functions a mapping file may call for logic that a field path cannot express
 * (choosing among repetitions, assembling a name or address, unit conversion). A mapping names them;
 * the loader checks that the name exists and produces the kind of value its target needs.
 */
import type { Address, GpPractice, LocalIdentifier, PersonName } from '../../domain/birth-notification.js';
import { normaliseNhsNumber } from '../../domain/nhs-number.js';
import type { Hl7Reader, RepRef, SegmentRef } from './hl7-reader.js';
import type { KindValue, TargetKind } from './mapping-types.js';

/** What a mapping function receives: the selected repetitions of the rule's field, and their segment. */
export interface FunctionInput {
  reps: readonly RepRef[];
  segment: SegmentRef;
  reader: Hl7Reader;
}

/** A registered function producing values of kind K (undefined: nothing usable in the message). */
export interface MappingFunction<K extends TargetKind> {
  kind: K;
  fn: (input: FunctionInput) => KindValue[K] | undefined;
}

type AnyMappingFunction = { [K in TargetKind]: MappingFunction<K> }[TargetKind];

/** National identifier authorities (CX.4): these repetitions are NHS/CHI/H&C numbers, not local ids. */
const NATIONAL_AUTHORITIES = new Set(['NHS', 'HSNI', 'CHI']);

const upper = (s: string | undefined): string => (s ?? '').trim().toUpperCase();

/** CX.1 of the first selected repetition, as an NHS number in ten-digit form when its shape allows. */
function nhsNumberFromCx({ reps }: FunctionInput): string | undefined {
  const v = reps[0]?.value(1)?.trim();
  if (v === undefined || v === '') return undefined;
  return normaliseNhsNumber(v) ?? v;
}

/** Every CX repetition with an assigning authority or type that is not a national number. */
function identifiersFromCx({ reps }: FunctionInput): LocalIdentifier[] | undefined {
  const out: LocalIdentifier[] = [];
  for (const r of reps) {
    const value = r.value(1)?.trim();
    const assigner = r.value(4)?.trim();
    const type = r.value(5)?.trim();
    if (value === undefined || value === '' || NATIONAL_AUTHORITIES.has(upper(assigner))) continue;
    if (!assigner && !type) continue;
    out.push({ value, ...(assigner ? { assigner } : {}), ...(type ? { type } : {}) });
  }
  return out;
}

/** XPN: family^given^middle^suffix^prefix; the legal (`L`) repetition first, else the first one. */
function nameFromXpn({ reps }: FunctionInput): PersonName | undefined {
  const r = reps.find((x) => upper(x.value(7)) === 'L') ?? reps[0];
  if (r === undefined) return undefined;
  const family = r.value(1, 1)?.trim();
  const given = [r.value(2), r.value(3)].map((g) => g?.trim()).filter((g): g is string => !!g);
  const prefix = r.value(5)?.trim();
  if (!family && given.length === 0) return undefined;
  return { ...(family ? { family } : {}), ...(given.length ? { given } : {}), ...(prefix ? { prefix } : {}) };
}

/** XAD: street^other^city^county^postcode^country^type; the home (`H`) repetition first. */
function addressFromXad({ reps }: FunctionInput): Address | undefined {
  const r = reps.find((x) => upper(x.value(7)) === 'H') ?? reps[0];
  if (r === undefined) return undefined;
  const t = (c: number): string | undefined => (r.value(c, 1)?.trim() ?? '') || undefined;
  const lines = [t(1), t(2)].filter((l): l is string => l !== undefined);
  const [city, county, postcode, country] = [t(3), t(4), t(5), t(6)];
  if (lines.length === 0 && !city && !postcode) return undefined;
  return {
    lines,
    ...(city ? { city } : {}),
    ...(county ? { county } : {}),
    ...(postcode ? { postcode } : {}),
    ...(country ? { country } : {}),
  };
}

const ODS = /^[A-Z0-9]{3,10}$/;

/** XON: the ODS code is XON.3 in the ITK profile, XON.10 in v2.5+, else XON.1 when it looks like one. */
function gpPracticeFromXon({ reps }: FunctionInput): GpPractice | undefined {
  const r = reps[0];
  if (r === undefined) return undefined;
  const name = r.value(1)?.trim();
  for (const c of [3, 10]) {
    const code = upper(r.value(c));
    if (ODS.test(code)) return { odsCode: code, ...(name ? { name } : {}) };
  }
  return name !== undefined && ODS.test(upper(name)) ? { odsCode: upper(name) } : undefined;
}

/** XTN: the first repetition's number (XTN.1 in v2.4, else XTN.12 unformatted number). */
function phoneFromXtn({ reps }: FunctionInput): string | undefined {
  for (const r of reps) {
    const v = (r.value(1) ?? r.value(12))?.trim();
    if (v) return v;
  }
  return undefined;
}

function obxNumber(seg: SegmentRef, reader: Hl7Reader): { value: number; unit: string } | undefined {
  const value = reader.repetitions(seg, 5)[0]?.value(1)?.trim();
  if (value === undefined || !/^[0-9]+(\.[0-9]+)?$/.test(value)) return undefined;
  return { value: Number(value), unit: upper(reader.repetitions(seg, 6)[0]?.value(1)) };
}

/** OBX-5 birth weight in grams, converting from kg or lb (OBX-6.1); unknown units give nothing. */
function weightGramsFromObx({ segment, reader }: FunctionInput): number | undefined {
  const n = obxNumber(segment, reader);
  if (n === undefined) return undefined;
  if (['G', 'GRAM', 'GRAMS'].includes(n.unit)) return n.value;
  if (['KG', 'KILOGRAM', 'KILOGRAMS'].includes(n.unit)) return Math.round(n.value * 1000);
  if (['LB', '[LB_AV]'].includes(n.unit)) return Math.round(n.value * 453.59237);
  return undefined;
}

/** OBX-5 gestation in weeks (units `wk`/`weeks`; `d`/`days` are divided by 7). */
function gestationWeeksFromObx({ segment, reader }: FunctionInput): number | undefined {
  const n = obxNumber(segment, reader);
  if (n === undefined) return undefined;
  if (['WK', 'WKS', 'WEEK', 'WEEKS', 'W'].includes(n.unit)) return n.value;
  if (['D', 'DAY', 'DAYS'].includes(n.unit)) return Math.round((n.value / 7) * 10) / 10;
  return undefined;
}

/** The registry mapping files refer to by name. */
export const MAPPING_FUNCTIONS: Readonly<Record<string, AnyMappingFunction>> = {
  nhsNumberFromCx: { kind: 'text', fn: nhsNumberFromCx },
  identifiersFromCx: { kind: 'identifiers', fn: identifiersFromCx },
  nameFromXpn: { kind: 'name', fn: nameFromXpn },
  addressFromXad: { kind: 'address', fn: addressFromXad },
  gpPracticeFromXon: { kind: 'gp', fn: gpPracticeFromXon },
  phoneFromXtn: { kind: 'text', fn: phoneFromXtn },
  weightGramsFromObx: { kind: 'number', fn: weightGramsFromObx },
  gestationWeeksFromObx: { kind: 'number', fn: gestationWeeksFromObx },
};
