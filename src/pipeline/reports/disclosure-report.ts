/**
 * The subject-access disclosure report (issue 14 item 4): for one person (an NHS number, as baby or as mother),
 * every disclosure of a notification about them (to which inbox, which dataset and fields, when, under which rule,
 * agreement version and lawful basis), every update disclosed, every withdrawal (with a neutral reason category),
 * and every read or taking-on by the inbox. Pure: built from the store's events and the catchments.
 *
 * Who the person is in each notification: a notification about a birth concerns the baby and the mother. The report
 * for an NHS number lists the notifications where it is the baby's or the mother's number, and says which. A twin's
 * notification names the other twin as its baby, so it is in the mother's report but never in the other twin's. The
 * report never shows another person's identifiers: it names notifications by id and says "as baby" or "as mother".
 */
import type { Catchments } from '../catchments.js';
import { HUB_UNALLOCATED_INBOX } from '../route.js';
import { DATASETS, isDatasetName } from '../consent/datasets.js';
import type { SubjectEvent } from '../../ports/ig-reports.js';
import { toCsv } from './csv.js';

export type DisclosureKind = 'disclosed' | 'updated' | 'withdrawn' | 'read' | 'taken-on';

export type RecipientKind = 'centre' | 'local-authority-unallocated' | 'unallocated' | 'review' | 'other';

/** An inbox as the report names it. */
export interface Recipient {
  inboxId: string;
  name: string;
  kind: RecipientKind;
  localAuthority?: string;
}

export type WithdrawalCategory = 'moved-area' | 'consent-changed' | 'records-merged' | 'record-changed';

export const WITHDRAWAL_CATEGORY_TEXT: Record<WithdrawalCategory, string> = {
  'moved-area': 'The family’s address moved to another area',
  'consent-changed': 'A consent or objection was recorded',
  'records-merged': 'Two records of the same person were merged',
  'record-changed': 'A later message from the maternity service changed the record',
};

export interface DisclosureEntry {
  at: string;
  kind: DisclosureKind;
  notificationId: string;
  /** How the notification concerns the person asked for. */
  subjectRole: 'baby' | 'mother' | 'baby and mother';
  recipient?: Recipient;
  dataset?: string;
  /** The fields disclosed: the dataset's fields (those present in the record), or those an update changed. */
  fields?: string[];
  ruleId?: string;
  agreement?: string;
  lawfulBasis?: string;
  withdrawalReason?: WithdrawalCategory;
  /** Who read or took it on: the actor id (`user:<sub>`, `client:<id>`) and a person's name. */
  by?: { actor: string; name?: string };
}

export interface DisclosureReport {
  nhsNumber: string;
  generatedAt: string;
  since?: string;
  until?: string;
  notifications: number;
  summary: Record<DisclosureKind, number>;
  entries: DisclosureEntry[];
}

const REVIEW_NAMES: Record<string, string> = {
  'safeguarding-review': 'Safeguarding review inbox (review pathway)',
  'young-parents-review': 'Young parents review inbox (review pathway)',
};

/** How an inbox id is named in the report: a centre and its local authority, an unallocated inbox, a review inbox. */
export function describeRecipient(catchments: Catchments, inboxId: string): Recipient {
  const centre = catchments.centres.get(inboxId);
  if (centre !== undefined) {
    const la = catchments.localAuthorities.find((l) => l.id === centre.localAuthorityId);
    return { inboxId, name: centre.name, kind: 'centre', ...(la ? { localAuthority: la.name } : {}) };
  }
  const la = catchments.localAuthorities.find((l) => `${l.id}-unallocated` === inboxId);
  if (la !== undefined)
    return { inboxId, name: `${la.name}: unallocated inbox`, kind: 'local-authority-unallocated', localAuthority: la.name };
  if (inboxId === HUB_UNALLOCATED_INBOX) return { inboxId, name: 'Hub unallocated inbox (no local authority)', kind: 'unallocated' };
  const review = REVIEW_NAMES[inboxId];
  if (review !== undefined) return { inboxId, name: review, kind: 'review' };
  return { inboxId, name: inboxId, kind: 'other' };
}

/** A neutral category for a withdrawal: never the details behind it (a death, who objected). */
export function withdrawalCategory(e: Pick<SubjectEvent, 'outcome' | 'details'>): WithdrawalCategory {
  const reason = typeof e.details.reason === 'string' ? e.details.reason : '';
  if (e.outcome === 'moved-away') return 'moved-area';
  if (/consent/i.test(reason)) return 'consent-changed';
  if (/merged/i.test(reason) || e.details.mergedInto !== undefined) return 'records-merged';
  return 'record-changed';
}

const strings = (v: unknown): string[] | undefined => {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string');
  return out.length === v.length ? out : undefined;
};

function datasetFields(dataset: unknown): string[] | undefined {
  return typeof dataset === 'string' && isDatasetName(dataset) ? [...DATASETS[dataset]] : undefined;
}

function entryOf(e: SubjectEvent, catchments: Catchments): DisclosureEntry | undefined {
  const base = {
    at: e.at.toISOString(),
    notificationId: e.notificationId,
    subjectRole: e.asBaby && e.asMother ? ('baby and mother' as const) : e.asBaby ? ('baby' as const) : ('mother' as const),
    ...(e.recipient !== undefined ? { recipient: describeRecipient(catchments, e.recipient) } : {}),
  };
  const rule = {
    ...(e.ruleId !== undefined ? { ruleId: e.ruleId } : {}),
    ...(e.rulebookVersion !== undefined ? { agreement: e.rulebookVersion } : {}),
    ...(e.lawfulBasis !== undefined ? { lawfulBasis: e.lawfulBasis } : {}),
  };
  const name = typeof e.details.name === 'string' ? e.details.name : undefined;
  const by = { actor: e.actor, ...(name !== undefined ? { name } : {}) };
  switch (e.action) {
    case 'delivered': {
      const dataset = typeof e.details.dataset === 'string' ? e.details.dataset : undefined;
      const fields = datasetFields(dataset);
      return { ...base, kind: 'disclosed', ...(dataset ? { dataset } : {}), ...(fields ? { fields } : {}), ...rule };
    }
    case 'updated': {
      // Only an update sent to an inbox, with fields, disclosed something.
      const fields = strings(e.details.fields);
      if (e.recipient === undefined || fields === undefined || fields.length === 0) return undefined;
      const dataset = typeof e.details.dataset === 'string' ? e.details.dataset : undefined;
      return { ...base, kind: 'updated', ...(dataset ? { dataset } : {}), fields, ...rule };
    }
    case 'withdrawn':
      return { ...base, kind: 'withdrawn', withdrawalReason: withdrawalCategory(e), ...rule };
    case 'read':
      return e.recipient === undefined ? undefined : { ...base, kind: 'read', by };
    case 'acknowledged':
      return { ...base, kind: 'taken-on', by };
  }
}

/** The report from the store's events (oldest first). */
export function buildDisclosureReport(input: {
  nhsNumber: string;
  generatedAt: Date;
  since?: Date;
  until?: Date;
  notifications: number;
  events: readonly SubjectEvent[];
  catchments: Catchments;
}): DisclosureReport {
  const entries = input.events.flatMap((e) => entryOf(e, input.catchments) ?? []);
  const summary: Record<DisclosureKind, number> = { disclosed: 0, updated: 0, withdrawn: 0, read: 0, 'taken-on': 0 };
  for (const e of entries) summary[e.kind] += 1;
  return {
    nhsNumber: input.nhsNumber,
    generatedAt: input.generatedAt.toISOString(),
    ...(input.since ? { since: input.since.toISOString() } : {}),
    ...(input.until ? { until: input.until.toISOString() } : {}),
    notifications: input.notifications,
    summary,
    entries,
  };
}

export const KIND_TEXT: Record<DisclosureKind, string> = {
  disclosed: 'Disclosed',
  updated: 'Update disclosed',
  withdrawn: 'Withdrawn',
  read: 'Read',
  'taken-on': 'Taken on',
};

export const DISCLOSURE_CSV_HEADER = [
  'time',
  'event',
  'notification',
  'subject role',
  'recipient inbox',
  'recipient name',
  'recipient kind',
  'local authority',
  'dataset',
  'fields',
  'rule',
  'agreement version',
  'lawful basis',
  'withdrawal reason',
  'by',
  'by name',
] as const;

/** The report as CSV (RFC 4180, spreadsheet-safe), one row per entry. */
export function disclosureCsv(report: DisclosureReport): string {
  return toCsv(
    DISCLOSURE_CSV_HEADER,
    report.entries.map((e) => [
      e.at,
      KIND_TEXT[e.kind],
      e.notificationId,
      e.subjectRole,
      e.recipient?.inboxId,
      e.recipient?.name,
      e.recipient?.kind,
      e.recipient?.localAuthority,
      e.dataset,
      e.fields?.join('; '),
      e.ruleId,
      e.agreement,
      e.lawfulBasis,
      e.withdrawalReason !== undefined ? WITHDRAWAL_CATEGORY_TEXT[e.withdrawalReason] : undefined,
      e.by?.actor,
      e.by?.name,
    ]),
  );
}
