/**
 * A centre's family register, row by row (issue 12 item 1; POST /v1/families/import). One row per family
 * member: the family's lead (`role` `lead`, the mother or the person with parental responsibility) and its
 * children (`role` `child`), grouped by the register's own `familyRef`. Rows are checked one by one; a bad row
 * is reported by its number, field and problem, never its value. A family whose lead row is rejected (or that
 * has none) is not imported: its children are reported too.
 */
import type { Address, GpPractice } from '../domain/birth-notification.js';
import { boundedKey } from '../domain/bounded-key.js';
import { parseNhsNumber } from '../domain/nhs-number.js';
import { normalisePostcode } from '../domain/postcode.js';
import type { FamilyLead, ImportedFamily, NewChild } from '../ports/family-store.js';
import type { PersonForMatching } from '../matching/index.js';
import { personOf } from './family-match.js';

/** The columns (CSV header names, JSON property names) a register row may have. */
export const REGISTER_COLUMNS = [
  'familyRef',
  'role',
  'nhsNumber',
  'familyName',
  'givenNames',
  'birthDate',
  'sex',
  'localId',
  'addressLine1',
  'addressLine2',
  'city',
  'postcode',
  'phone',
  'preferredLanguage',
  'gpOdsCode',
] as const;
export type RegisterColumn = (typeof REGISTER_COLUMNS)[number];
export type RegisterRow = Partial<Record<string, unknown>>;

export interface RowProblem {
  /** 1-based row number (CSV: the data row after the header; JSON: the array element). */
  row: number;
  field: string;
  problem: string;
}

const MAX_VALUE = 200;
const REF = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const ODS = /^[A-Z0-9]{3,10}$/;
const PHONE = /^\+?[0-9 ()-]{6,20}$/;
const SEXES = ['male', 'female', 'other', 'unknown'] as const;

/** A real calendar date YYYY-MM-DD, not in the future and not before 1900. */
export function isPastDate(s: string, today: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s && s >= '1900-01-01' && s <= today;
}

interface CheckedRow {
  row: number;
  ref: string;
  role: 'lead' | 'child';
  values: Partial<Record<RegisterColumn, string>>;
}

/** One row's checks: every problem of the row (field and problem), or the row's values trimmed. */
function checkRow(raw: RegisterRow, row: number, today: string): { ok: CheckedRow } | { problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const values: Partial<Record<RegisterColumn, string>> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(REGISTER_COLUMNS as readonly string[]).includes(k)) {
      problems.push({ row, field: k, problem: 'is not a register column' });
      continue;
    }
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') {
      problems.push({ row, field: k, problem: 'must be a string' });
      continue;
    }
    const t = v.trim();
    if (t.length > MAX_VALUE) problems.push({ row, field: k, problem: `is longer than ${MAX_VALUE} characters` });
    else if (t !== '') values[k as RegisterColumn] = t;
  }
  const need = (field: RegisterColumn): void => {
    if (values[field] === undefined && !problems.some((p) => p.field === field)) problems.push({ row, field, problem: 'is required' });
  };
  need('familyRef');
  need('role');
  if (values.familyRef !== undefined && !REF.test(values.familyRef))
    problems.push({ row, field: 'familyRef', problem: 'must be 1 to 64 letters, digits or . _ : / -' });
  const role = values.role;
  if (role !== undefined && role !== 'lead' && role !== 'child') problems.push({ row, field: 'role', problem: 'must be lead or child' });
  if (values.nhsNumber !== undefined) {
    const nhs = parseNhsNumber(values.nhsNumber);
    if (nhs.ok) values.nhsNumber = nhs.value;
    else
      problems.push({
        row,
        field: 'nhsNumber',
        problem: nhs.reason === 'shape' ? 'must be ten digits' : 'fails the NHS number check digit (modulus 11)',
      });
  }
  if (values.birthDate !== undefined && !isPastDate(values.birthDate, today))
    problems.push({ row, field: 'birthDate', problem: 'must be a date YYYY-MM-DD, not in the future' });
  if (values.postcode !== undefined) {
    const p = normalisePostcode(values.postcode);
    if (p === undefined) problems.push({ row, field: 'postcode', problem: 'is not a UK postcode' });
    else values.postcode = p;
  }
  if (values.phone !== undefined && !PHONE.test(values.phone)) problems.push({ row, field: 'phone', problem: 'is not a telephone number' });
  if (values.gpOdsCode !== undefined && !ODS.test(values.gpOdsCode.toUpperCase()))
    problems.push({ row, field: 'gpOdsCode', problem: 'must be an ODS code (3 to 10 letters or digits)' });
  if (values.localId !== undefined && !REF.test(values.localId))
    problems.push({ row, field: 'localId', problem: 'must be 1 to 64 letters, digits or . _ : / -' });
  if (role === 'lead') {
    need('familyName');
    need('postcode');
  }
  if (role === 'child') {
    need('birthDate');
    if (values.sex !== undefined && !(SEXES as readonly string[]).includes(values.sex))
      problems.push({ row, field: 'sex', problem: 'must be male, female, other or unknown' });
  }
  if (problems.length > 0) return { problems };
  return { ok: { row, ref: values.familyRef ?? '', role: role === 'child' ? 'child' : 'lead', values } };
}

const given = (v: string | undefined): string[] | undefined => {
  const names = v?.split(/\s+/).filter((x) => x !== '');
  return names !== undefined && names.length > 0 ? names : undefined;
};

function leadOfRow(v: Partial<Record<RegisterColumn, string>>): FamilyLead {
  const g = given(v.givenNames);
  return {
    name: { ...(v.familyName !== undefined ? { family: v.familyName } : {}), ...(g !== undefined ? { given: g } : {}) },
    ...(v.birthDate !== undefined ? { birthDate: v.birthDate } : {}),
    ...(v.nhsNumber !== undefined ? { nhsNumber: v.nhsNumber } : {}),
    ...(v.phone !== undefined ? { phone: v.phone } : {}),
    ...(v.preferredLanguage !== undefined ? { preferredLanguage: v.preferredLanguage } : {}),
  };
}

function addressOfRow(v: Partial<Record<RegisterColumn, string>>): Address {
  return {
    lines: [v.addressLine1, v.addressLine2].filter((x): x is string => x !== undefined),
    ...(v.city !== undefined ? { city: v.city } : {}),
    ...(v.postcode !== undefined ? { postcode: v.postcode } : {}),
  };
}

export interface RegisterImport {
  families: ImportedFamily[];
  rejected: RowProblem[];
}

/**
 * Checks the rows and groups them into families for `centre`. `blockingKeys` gives the lead's blocking keys
 * (src/matching), `newId` the new families' ids, `today` the London date (no birth date after it).
 */
export function readRegister(
  rows: readonly RegisterRow[],
  centre: string,
  options: { today: string; at: Date; newId: () => string; blockingKeys: (p: PersonForMatching) => string[] },
): RegisterImport {
  const rejected: RowProblem[] = [];
  const byRef = new Map<string, CheckedRow[]>();
  rows.forEach((raw, i) => {
    const checked = checkRow(raw, i + 1, options.today);
    if ('problems' in checked) {
      rejected.push(...checked.problems);
      return;
    }
    const list = byRef.get(checked.ok.ref);
    if (list === undefined) byRef.set(checked.ok.ref, [checked.ok]);
    else list.push(checked.ok);
  });
  const families: ImportedFamily[] = [];
  const leadNhs = new Set<string>();
  const childKeys = new Set<string>();
  for (const [ref, members] of byRef) {
    const leads = members.filter((m) => m.role === 'lead');
    const lead = leads[0];
    for (const extra of leads.slice(1)) rejected.push({ row: extra.row, field: 'role', problem: 'a family has one lead row' });
    const children = members.filter((m) => m.role === 'child');
    if (lead === undefined) {
      for (const c of children) rejected.push({ row: c.row, field: 'familyRef', problem: 'no accepted lead row has this familyRef' });
      continue;
    }
    const nhs = lead.values.nhsNumber;
    if (nhs !== undefined && leadNhs.has(nhs)) {
      rejected.push({ row: lead.row, field: 'nhsNumber', problem: 'another family in this import has the same lead NHS number' });
      for (const c of children) rejected.push({ row: c.row, field: 'familyRef', problem: 'no accepted lead row has this familyRef' });
      continue;
    }
    if (nhs !== undefined) leadNhs.add(nhs);
    const familyLead = leadOfRow(lead.values);
    const address = addressOfRow(lead.values);
    const id = options.newId();
    const kids: NewChild[] = [];
    const accepted = [lead.row];
    for (const c of children) {
      const v = c.values;
      const key =
        v.nhsNumber !== undefined ? `nhs:${v.nhsNumber}` : boundedKey(`register:${centre}:${ref}:${v.localId ?? `row-${String(c.row)}`}`);
      if (childKeys.has(key)) {
        rejected.push({
          row: c.row,
          field: v.nhsNumber !== undefined ? 'nhsNumber' : 'localId',
          problem: 'the same child is on an earlier row',
        });
        continue;
      }
      childKeys.add(key);
      const g = given(v.givenNames);
      kids.push({
        familyId: id,
        childKey: key,
        record: {
          ...(v.nhsNumber !== undefined ? { nhsNumber: v.nhsNumber } : {}),
          ...(v.familyName !== undefined || g !== undefined
            ? { name: { ...(v.familyName !== undefined ? { family: v.familyName } : {}), ...(g !== undefined ? { given: g } : {}) } }
            : {}),
          ...(v.sex !== undefined ? { sex: v.sex } : {}),
          ...(v.birthDate !== undefined ? { birthDate: v.birthDate } : {}),
        },
        at: options.at,
      });
      accepted.push(c.row);
    }
    const gp: GpPractice | undefined = lead.values.gpOdsCode !== undefined ? { odsCode: lead.values.gpOdsCode.toUpperCase() } : undefined;
    families.push({
      family: {
        id,
        lead: familyLead,
        address,
        ...(gp !== undefined ? { gp } : {}),
        ...(familyLead.preferredLanguage !== undefined ? { preferredLanguage: familyLead.preferredLanguage } : {}),
        centre,
        origin: 'register-import',
        blockKeys: options.blockingKeys(personOf(familyLead, address.postcode)),
        at: options.at,
      },
      children: kids,
      rows: accepted,
    });
  }
  rejected.sort((a, b) => a.row - b.row || a.field.localeCompare(b.field));
  return { families, rejected };
}
