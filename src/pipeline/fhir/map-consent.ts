/**
 * FHIR R4 `Consent` resources in a birth message (issue 13): each active Consent becomes a ConsentStatement.
 * - `status`: only `active` states anything; `proposed`, `draft`, `inactive`, `rejected` and `entered-in-error`
 *   are skipped (a withdrawn consent is withdrawn in the register, by the API or a later statement);
 * - what it is about: `category` (or `scope`) coded in Stork's consent-scope system: `offer-of-support`,
 *   `clinical-details` or `antenatal`. A Consent without that system (research, treatment, genomics) is about
 *   something else: ignored, with a warning; our system with an unknown code is an error;
 * - `provision.type`: `permit` is a consent, `deny` an objection;
 * - `provision.period` (start, end): its dates, the days it applies;
 * - `patient`: the baby (the statement names the baby's and the mother's NHS numbers) or the mother (only hers,
 *   so it applies to her babies) in this Bundle. Source `fhir`, recipient `any`.
 * A Consent that cannot be read so is an error naming its element: the message is refused (an objection must
 * never be dropped silently).
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import { CONSENT_SCOPES, type ConsentScope, type ConsentStatement } from '../../domain/consent.js';
import { fhirIssue, type FhirIssue } from './fhir-issue.js';
import type { JsonObject } from './fhir-xml.js';
import { obj, objs, str } from './json-access.js';
import { resolveReference, type BundleEntry, type MessageBundle } from './message-bundle.js';

/** The code system of Stork's consent scopes. */
export const CONSENT_SCOPE_SYSTEM = 'https://stork.example/fhir/CodeSystem/consent-scope';

const DATE = /^(\d{4}-\d{2}-\d{2})(T.*)?$/;

/** The scope the Consent is coded with in Stork's system: a known scope, `unknown` (our system, another code), or none. */
function scopeOf(r: JsonObject): ConsentScope | 'unknown' | undefined {
  const scope = obj(r.scope);
  const concepts = [...objs(r.category), ...(scope !== undefined ? [scope] : [])];
  let ours = false;
  for (const c of concepts) {
    for (const coding of objs(c.coding)) {
      if (str(coding.system) !== CONSENT_SCOPE_SYSTEM) continue;
      ours = true;
      const code = str(coding.code);
      const known = CONSENT_SCOPES.find((s) => s === code);
      if (known !== undefined) return known;
    }
  }
  return ours ? 'unknown' : undefined;
}

/** The statements of the message's active Consent resources, about `n`'s baby (the `baby` entry) or mother. */
export function consentsOf(
  message: MessageBundle,
  baby: BundleEntry,
  n: BirthNotification,
): { consents: ConsentStatement[]; issues: FhirIssue[] } {
  const consents: ConsentStatement[] = [];
  const issues: FhirIssue[] = [];
  for (const e of message.entries) {
    const r = e.resource;
    if (r.resourceType !== 'Consent') continue;
    const x = e.expression;
    if (str(r.status) !== 'active') continue;
    const scope = scopeOf(r);
    if (scope === undefined) {
      // Another kind of consent (research, treatment, genomics…): not about sharing with a centre; noted, not read.
      issues.push(
        fhirIssue(
          'not-supported',
          `A Consent without a category in ${CONSENT_SCOPE_SYSTEM} is not about this service: ignored`,
          `${x}.category`,
          {
            severity: 'warning',
          },
        ),
      );
      continue;
    }
    if (scope === 'unknown') {
      issues.push(fhirIssue('code-invalid', `The Consent's category is not a known scope (${CONSENT_SCOPES.join(', ')})`, `${x}.category`));
      continue;
    }
    const provision = obj(r.provision);
    const type = str(provision?.type);
    if (type !== 'permit' && type !== 'deny') {
      issues.push(fhirIssue('required', 'A Consent needs provision.type permit or deny', `${x}.provision.type`));
      continue;
    }
    const period = obj(provision?.period);
    const dates: Pick<ConsentStatement, 'from' | 'to'> = {};
    let bad = false;
    for (const [key, element] of [
      ['from', 'start'],
      ['to', 'end'],
    ] as const) {
      const raw = period === undefined ? undefined : period[element];
      if (raw === undefined) continue;
      const m = typeof raw === 'string' ? DATE.exec(raw) : null;
      if (m?.[1] === undefined || Number.isNaN(Date.parse(m[1]))) {
        issues.push(fhirIssue('value', `provision.period.${element} is not a date`, `${x}.provision.period.${element}`));
        bad = true;
      } else dates[key] = m[1];
    }
    if (bad) continue;
    if (dates.from !== undefined && dates.to !== undefined && dates.to < dates.from) {
      issues.push(fhirIssue('invariant', 'provision.period ends before it starts', `${x}.provision.period`));
      continue;
    }
    const patient = resolveReference(message.entries, str(obj(r.patient)?.reference));
    if (patient === undefined) {
      issues.push(fhirIssue('required', 'Consent.patient must refer to the baby or the mother in this Bundle', `${x}.patient`));
      continue;
    }
    const aboutBaby = patient === baby;
    const babyNhs = aboutBaby ? n.baby.nhsNumber : undefined;
    const motherNhs = n.mother?.nhsNumber;
    if (babyNhs === undefined && motherNhs === undefined) {
      issues.push(
        fhirIssue(
          'required',
          "A Consent needs the baby's or the mother's NHS number in this message, to be kept in the register",
          `${x}.patient`,
        ),
      );
      continue;
    }
    consents.push({
      kind: type === 'permit' ? 'consent' : 'objection',
      scope,
      recipient: 'any',
      ...dates,
      source: 'fhir',
      ...(motherNhs !== undefined ? { motherNhsNumber: motherNhs } : {}),
      ...(babyNhs !== undefined ? { babyNhsNumber: babyNhs } : {}),
    });
  }
  return { consents, issues };
}
