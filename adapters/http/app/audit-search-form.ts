import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import { localOffsetMinutes } from '../../../src/domain/hl7-datetime.js';
import { AUDIT_ACTIONS, type AuditAction } from '../../../src/ports/audit.js';

/** The IG lead's search form as typed (query string values), given back to the page to fill the fields again. */
export interface AuditSearchValues {
  nhsNumber: string;
  centre: string;
  feed: string;
  rule: string;
  eventType: string;
  from: { day: string; month: string; year: string };
  to: { day: string; month: string; year: string };
}

/** An error in the GOV.UK error summary pattern: the message, and the field it links to. */
export interface FieldError {
  text: string;
  href: string;
}

/** What the form asks of the audit, once it is valid. */
export interface AuditSearchCriteria {
  subject?: string;
  centre?: string;
  /** A feed, a rule, an event type: any of them makes the search list events rather than notifications. */
  feed?: string;
  rule?: string;
  action?: AuditAction;
  /** Start of the first day (London), inclusive. */
  from?: Date;
  /** Start of the day after the last day (London), exclusive. */
  before?: Date;
}

export type AuditSearchForm =
  | { kind: 'empty'; values: AuditSearchValues }
  | { kind: 'invalid'; values: AuditSearchValues; errors: FieldError[]; fieldErrors: Record<string, string> }
  | { kind: 'valid'; values: AuditSearchValues; criteria: AuditSearchCriteria };

const MAX_FIELD = 40;

function text(query: Record<string, unknown>, key: string): string {
  const v = query[key];
  return typeof v === 'string' ? v.trim().slice(0, MAX_FIELD) : '';
}

/** Midnight in London at the start of a calendar date, as an instant. */
export function londonMidnight(year: number, month: number, day: number): Date {
  const wall = Date.UTC(year, month - 1, day);
  return new Date(wall - localOffsetMinutes(wall) * 60_000);
}

export type DateCheck = { ok: true; date?: { year: number; month: number; day: number } } | { ok: false; message: string; part: string };

/** A GOV.UK date input's three fields as typed. */
export type DateFields = AuditSearchValues['from'];

/** A GOV.UK date input's three fields: all empty (no date), or a real date; the messages are GOV.UK's own. */
export function checkDate(label: string, d: DateFields): DateCheck {
  const parts = [
    ['day', d.day],
    ['month', d.month],
    ['year', d.year],
  ] as const;
  const missing = parts.filter(([, v]) => v === '').map(([k]) => k);
  if (missing.length === 3) return { ok: true };
  if (missing.length > 0) return { ok: false, message: `${label} must include a ${missing.join(' and ')}`, part: missing[0] ?? 'day' };
  if (!parts.every(([, v]) => /^\d{1,4}$/.test(v))) return { ok: false, message: `${label} must be a real date`, part: 'day' };
  const day = Number(d.day);
  const month = Number(d.month);
  const year = Number(d.year);
  if (d.year.length !== 4) return { ok: false, message: 'Year must include 4 numbers', part: 'year' };
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCDate() !== day || probe.getUTCMonth() !== month - 1)
    return { ok: false, message: `${label} must be a real date`, part: 'day' };
  if (year < 2000) return { ok: false, message: `${label} must be in or after 2000`, part: 'year' };
  return { ok: true, date: { year, month, day } };
}

/**
 * Reads and checks the IG lead's search (a GET form): an NHS number (baby or mother), a centre, a feed, a rule,
 * an event type, a date range; at least one of them. Feed, rule and event type come from drop-downs of known values. Errors follow the GOV.UK error summary pattern, each linking to its field.
 */
export function readAuditSearch(
  query: Record<string, unknown>,
  centreIds: ReadonlySet<string>,
  now: Date,
  choices: { feedIds?: ReadonlySet<string>; ruleIds?: ReadonlySet<string> } = {},
): AuditSearchForm {
  const values: AuditSearchValues = {
    nhsNumber: text(query, 'nhsNumber'),
    centre: text(query, 'centre'),
    feed: text(query, 'feed'),
    rule: text(query, 'rule'),
    eventType: text(query, 'eventType'),
    from: { day: text(query, 'from-day'), month: text(query, 'from-month'), year: text(query, 'from-year') },
    to: { day: text(query, 'to-day'), month: text(query, 'to-month'), year: text(query, 'to-year') },
  };
  if (query.search === undefined) return { kind: 'empty', values };
  const errors: FieldError[] = [];
  const fieldErrors: Record<string, string> = {};
  const fail = (field: string, href: string, message: string): void => {
    errors.push({ text: message, href: `#${href}` });
    fieldErrors[field] = message;
  };
  const criteria: AuditSearchCriteria = {};

  const nhs = values.nhsNumber.replace(/[\s-]/g, '');
  if (nhs !== '') {
    if (!/^\d{10}$/.test(nhs)) fail('nhsNumber', 'nhsNumber', 'NHS number must be 10 digits, like 943 476 5919');
    else if (!isValidNhsNumber(nhs)) fail('nhsNumber', 'nhsNumber', 'Enter a real NHS number: this one’s check digit is wrong');
    else criteria.subject = nhs;
  }
  if (values.centre !== '') {
    if (!centreIds.has(values.centre)) fail('centre', 'centre', 'Select a centre from the list');
    else criteria.centre = values.centre;
  }
  if (values.feed !== '') {
    if (!choices.feedIds?.has(values.feed)) fail('feed', 'feed', 'Select a feed from the list');
    else criteria.feed = values.feed;
  }
  if (values.rule !== '') {
    if (!choices.ruleIds?.has(values.rule)) fail('rule', 'rule', 'Select a rule from the list');
    else criteria.rule = values.rule;
  }
  if (values.eventType !== '') {
    if (!(AUDIT_ACTIONS as readonly string[]).includes(values.eventType))
      fail('eventType', 'eventType', 'Select an event type from the list');
    else criteria.action = values.eventType as AuditAction;
  }
  const from = checkDate('Date from', values.from);
  const to = checkDate('Date to', values.to);
  if (!from.ok) fail('from', `from-${from.part}`, from.message);
  else if (from.date) criteria.from = londonMidnight(from.date.year, from.date.month, from.date.day);
  if (!to.ok) fail('to', `to-${to.part}`, to.message);
  else if (to.date) criteria.before = londonMidnight(to.date.year, to.date.month, to.date.day + 1);
  if (criteria.from && criteria.from.getTime() > now.getTime()) fail('from', 'from-day', 'Date from must be today or in the past');
  if (criteria.from && criteria.before && criteria.before.getTime() <= criteria.from.getTime())
    fail('to', 'to-day', 'Date to must be the same as or after date from');
  if (errors.length === 0 && Object.keys(criteria).length === 0)
    fail('nhsNumber', 'nhsNumber', 'Enter an NHS number, select a centre, feed, rule or event type, or enter a date to search by');
  return errors.length > 0 ? { kind: 'invalid', values, errors, fieldErrors } : { kind: 'valid', values, criteria };
}
