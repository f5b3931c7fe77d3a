/**
 * The UK Core rules Stork relies on, as checks (UK Core profiles are not published on npm, and generic
 * validators do not catch a wrong UK Core system or extension URL). Each check is pure and returns the value
 * it vouches for and the issues found, with the FHIRPath of the element at fault.
 */
import type { Confidentiality, NhsNumberStatus } from '../../domain/birth-notification.js';
import { normaliseNhsNumber, parseNhsNumber } from '../../domain/nhs-number.js';
import { fhirIssue, type FhirIssue } from './fhir-issue.js';
import type { JsonObject } from './fhir-xml.js';
import { obj, objs, str } from './json-access.js';

export const UK_CORE = {
  nhsNumberSystem: 'https://fhir.nhs.uk/Id/nhs-number',
  verificationStatusUrl: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  verificationStatusSystem: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
  confidentialitySystem: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
} as const;

const STATUSES = new Set(['01', '02', '03', '04', '05', '06', '07', '08']);
const CONFIDENTIALITY_CODES = new Set(['U', 'L', 'M', 'N', 'R', 'V']);
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);

export interface Checked<T> {
  value?: T;
  issues: FhirIssue[];
}

/**
 * The NHS number of a Patient or RelatedPerson: the identifier with the NHS number system (at most one),
 * ten digits (`DDD DDD DDDD` is normalised) passing the Modulus 11 check. An identifier whose system only
 * looks like the NHS number's (http, a trailing slash, another case) is reported, so a number is never
 * silently lost. Also reads the UK Core verification status extension on that identifier.
 */
export function nhsNumberOf(
  resource: JsonObject,
  expression: string,
  systems: { nhsNumber: string; verificationStatusUrl: string },
): Checked<{ nhsNumber: string; status?: NhsNumberStatus; expression: string }> {
  const issues: FhirIssue[] = [];
  const ids = objs(resource.identifier);
  let found: { nhsNumber: string; status?: NhsNumberStatus; expression: string } | undefined;
  ids.forEach((id, i) => {
    const at = `${expression}.identifier[${i}]`;
    const system = str(id.system);
    if (system !== systems.nhsNumber) {
      if (system !== undefined && /fhir\.nhs\.(uk|net)\/id\/nhs-number\/?$/i.test(system))
        issues.push(fhirIssue('code-invalid', `Identifier system is not the NHS number system ${systems.nhsNumber}`, `${at}.system`));
      return;
    }
    if (found !== undefined) {
      issues.push(fhirIssue('invariant', 'More than one NHS number identifier', at));
      return;
    }
    const raw = str(id.value);
    if (raw === undefined) {
      issues.push(fhirIssue('required', 'The NHS number identifier has no value', `${at}.value`));
      return;
    }
    const parsed = parseNhsNumber(normaliseNhsNumber(raw) ?? raw);
    if (!parsed.ok) {
      const why = parsed.reason === 'shape' ? 'is not a ten-digit NHS number' : 'fails the NHS number Modulus 11 check';
      issues.push(fhirIssue('value', `The NHS number ${why}`, `${at}.value`));
      return;
    }
    found = { nhsNumber: parsed.value, expression: `${at}.value` };
    const status = verificationStatus(id, at, systems.verificationStatusUrl, issues);
    if (status !== undefined) found.status = status;
  });
  return { ...(found ? { value: found } : {}), issues };
}

function verificationStatus(identifier: JsonObject, at: string, url: string, issues: FhirIssue[]): NhsNumberStatus | undefined {
  let status: NhsNumberStatus | undefined;
  objs(identifier.extension).forEach((ext, i) => {
    const extUrl = str(ext.url) ?? '';
    const where = `${at}.extension[${i}]`;
    if (extUrl !== url) {
      if (/NHSNumberVerificationStatus/i.test(extUrl))
        issues.push(
          fhirIssue('code-invalid', `Unknown extension URL; the verification status extension is ${url}`, `${where}.url`, {
            severity: 'warning',
          }),
        );
      return;
    }
    const codings = objs(obj(ext.valueCodeableConcept)?.coding);
    const code = codings.map((c) => str(c.code)).find((c) => c !== undefined);
    if (code !== undefined && STATUSES.has(code)) status = code as NhsNumberStatus;
    else
      issues.push(
        fhirIssue(
          'code-invalid',
          'NHS number verification status must be a code 01 to 08; status ignored',
          `${where}.valueCodeableConcept`,
          {
            severity: 'warning',
          },
        ),
      );
  });
  return status;
}

/**
 * Confidentiality from `meta.security`: R restricted, V very restricted (per the mapping). A confidentiality
 * code outside the v3 value set is an error (it cannot be read safely); an R or V without the system is
 * taken as meant, with a warning: a restricted record is never treated as normal because of a missing system.
 */
export function confidentialityOf(
  resource: JsonObject,
  expression: string,
  rule: { system: string; codes: Readonly<Record<string, Exclude<Confidentiality, 'normal'>>> },
): Checked<Confidentiality> {
  const issues: FhirIssue[] = [];
  let level: Confidentiality = 'normal';
  objs(obj(resource.meta)?.security).forEach((c, i) => {
    const at = `${expression}.meta.security[${i}]`;
    const system = str(c.system);
    const code = str(c.code) ?? '';
    if (system !== undefined && system !== rule.system) return;
    if (system === undefined && rule.codes[code] === undefined) return;
    if (system === undefined)
      issues.push(fhirIssue('code-invalid', `Security label ${code} has no system; read as ${rule.system}`, at, { severity: 'warning' }));
    const meant = rule.codes[code];
    if (meant !== undefined) {
      if (meant === 'very-restricted' || level === 'normal') level = meant;
    } else if (!CONFIDENTIALITY_CODES.has(code)) issues.push(fhirIssue('code-invalid', 'Unknown confidentiality code', `${at}.code`));
  });
  return { value: level, issues };
}

/** Patient.gender must be in the administrative-gender value set. */
export function genderOf(resource: JsonObject, expression: string): Checked<'male' | 'female' | 'other' | 'unknown'> {
  const g = resource.gender;
  if (g === undefined) return { issues: [] };
  if (typeof g === 'string' && GENDERS.has(g)) return { value: g as 'male' | 'female' | 'other' | 'unknown', issues: [] };
  return { issues: [fhirIssue('code-invalid', 'gender must be male, female, other or unknown', `${expression}.gender`)] };
}

/**
 * The time of birth from the patient-birthTime extension on birthDate: a dateTime with a time and an offset,
 * on the same day as birthDate (UK Core's invariant).
 */
export function birthTimeOf(patient: JsonObject, expression: string, url: string, birthDate: string | undefined): Checked<string> {
  const exts = objs(obj(patient._birthDate)?.extension);
  const i = exts.findIndex((e) => str(e.url) === url);
  const ext = exts[i];
  if (!ext) return { issues: [] };
  const at = `${expression}.birthDate.extension[${i}].valueDateTime`;
  const v = str(ext.valueDateTime);
  if (v === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v)))
    return { issues: [fhirIssue('value', 'birthTime must be a date and time with a time zone offset', at)] };
  if (birthDate !== undefined && v.slice(0, 10) !== birthDate)
    return { issues: [fhirIssue('invariant', 'birthTime is not on the same day as birthDate', at)] };
  return { value: v, issues: [] };
}
