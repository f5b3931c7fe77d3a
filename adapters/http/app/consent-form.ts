import type { ConsentKind, ConsentScope } from '../../../src/domain/consent.js';
import { checkDate, type DateFields, type FieldError } from './audit-search-form.js';

/** What a centre worker typed about a parent's call, given back to the form to fill its fields again. */
export interface ConsentFormValues {
  kind: string;
  scope: string;
  from: DateFields;
  to: DateFields;
  purpose: string;
}

/** The parts of a consent statement the form gives (the page adds the subject, recipient and source). */
export interface ConsentFormStatement {
  kind: ConsentKind;
  scope: ConsentScope;
  from?: string;
  to?: string;
  purpose?: string;
}

export type ConsentFormResult =
  | { kind: 'invalid'; values: ConsentFormValues; errors: FieldError[]; fieldErrors: Record<string, string> }
  | { kind: 'valid'; values: ConsentFormValues; statement: ConsentFormStatement };

/** The register keeps a purpose of up to 500 characters (consent.schema.ts). */
export const MAX_PURPOSE = 500;

const KINDS: readonly ConsentKind[] = ['consent', 'objection'];
/** The scopes a centre records from a call: `antenatal` (contact in pregnancy) is not a centre's to record after a birth. */
const SCOPES: readonly ConsentScope[] = ['offer-of-support', 'clinical-details'];

const field = (body: Record<string, unknown>, key: string, max = 10): string => {
  const v = body[key];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
};

const isoDay = (d: { year: number; month: number; day: number }): string =>
  `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

export const emptyConsentForm = (): ConsentFormValues => ({
  kind: '',
  scope: '',
  from: { day: '', month: '', year: '' },
  to: { day: '', month: '', year: '' },
  purpose: '',
});

/**
 * Reads and checks what a centre worker recorded of a parent's call: consent or objection, what it is about, an
 * optional period (GOV.UK date inputs, both ends inclusive) and an optional note. Errors follow the GOV.UK error
 * summary pattern, each linking to its field.
 */
export function readConsentForm(body: Record<string, unknown>): ConsentFormResult {
  const rawPurpose = typeof body.purpose === 'string' ? body.purpose.trim() : '';
  const values: ConsentFormValues = {
    kind: field(body, 'kind', 20),
    scope: field(body, 'scope', 30),
    from: { day: field(body, 'from-day'), month: field(body, 'from-month'), year: field(body, 'from-year') },
    to: { day: field(body, 'to-day'), month: field(body, 'to-month'), year: field(body, 'to-year') },
    purpose: rawPurpose.slice(0, MAX_PURPOSE + 1),
  };
  const errors: FieldError[] = [];
  const fieldErrors: Record<string, string> = {};
  const fail = (name: string, href: string, message: string): void => {
    errors.push({ text: message, href: `#${href}` });
    fieldErrors[name] = message;
  };
  const kind = KINDS.find((k) => k === values.kind);
  if (kind === undefined) fail('kind', 'kind', 'Select whether the parent gave consent or objected');
  const scope = SCOPES.find((s) => s === values.scope);
  if (scope === undefined) fail('scope', 'scope', 'Select what the consent or objection is about');
  const from = checkDate('Start date', values.from);
  const to = checkDate('End date', values.to);
  if (!from.ok) fail('from', `from-${from.part}`, from.message);
  if (!to.ok) fail('to', `to-${to.part}`, to.message);
  const fromDay = from.ok && from.date ? isoDay(from.date) : undefined;
  const toDay = to.ok && to.date ? isoDay(to.date) : undefined;
  if (fromDay !== undefined && toDay !== undefined && toDay < fromDay)
    fail('to', 'to-day', 'End date must be the same as or after the start date');
  if (rawPurpose.length > MAX_PURPOSE) fail('purpose', 'purpose', `Note must be ${MAX_PURPOSE} characters or fewer`);
  if (errors.length > 0 || kind === undefined || scope === undefined) return { kind: 'invalid', values, errors, fieldErrors };
  return {
    kind: 'valid',
    values,
    statement: {
      kind,
      scope,
      ...(fromDay !== undefined ? { from: fromDay } : {}),
      ...(toDay !== undefined ? { to: toDay } : {}),
      ...(rawPurpose !== '' ? { purpose: rawPurpose } : {}),
    },
  };
}
