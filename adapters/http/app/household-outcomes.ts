import {
  contactDueBy,
  isCalendarDate,
  isOverdue,
  londonDateOf,
  OFFER_OUTCOMES,
  OUTCOME_TEXT,
  readOfferOutcome,
  type OfferOutcomeInput,
} from '../../../src/domain/offer-outcome.js';
import type { CentreFamily } from '../../../src/pipeline/family-disclosure.js';
import type { OutcomeHistory } from '../../../src/ports/offer-outcomes.js';
import type { WorklistLoop } from './centre-pages.js';
import { longDate, longDateTime, personName } from './family-view.js';

/** The outcome form's values as typed, to show again with its errors. */
export interface OutcomeFormState {
  values: { notificationId?: string; outcome?: string; day?: string; month?: string; year?: string; corrects?: string };
  errors: { text: string; href: string }[];
  fieldErrors: Record<string, { text: string }>;
}

const HREF: Record<string, string> = {
  notificationId: '#outcome-baby',
  outcome: '#outcome',
  date: '#outcome-date-day',
  corrects: '#corrects',
  worker: '#outcome',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/**
 * Reads the household page's outcome form: which baby's notification (the store checks it is in this inbox), the
 * outcome, the date as GOV.UK's three boxes, optionally the earlier record it corrects; the worker is the person
 * signed in. Gives the input, or the form's state with its errors (each naming its field) to show again.
 */
export function readOutcomeForm(
  body: unknown,
  worker: string,
  today: string,
): { ok: true; notificationId: string; input: OfferOutcomeInput } | { ok: false; state: OutcomeFormState } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const values = {
    notificationId: str(b.notificationId),
    outcome: str(b.outcome),
    day: str(b['date-day']),
    month: str(b['date-month']),
    year: str(b['date-year']),
    corrects: str(b.corrects),
  };
  const errors: { field: string; text: string }[] = [];
  if (!UUID.test(values.notificationId)) errors.push({ field: 'notificationId', text: 'Select the baby this is about' });
  let date = '';
  if (values.day === '' || values.month === '' || values.year === '') errors.push({ field: 'date', text: 'Enter the date it happened' });
  else {
    date = `${values.year.padStart(4, '0')}-${values.month.padStart(2, '0')}-${values.day.padStart(2, '0')}`;
    if (!/^\d{1,2}$/.test(values.day) || !/^\d{1,2}$/.test(values.month) || !/^\d{4}$/.test(values.year) || !isCalendarDate(date))
      errors.push({ field: 'date', text: 'The date it happened must be a real date' });
  }
  const read = readOfferOutcome(
    {
      outcome: values.outcome,
      date: errors.some((e) => e.field === 'date') ? today : date,
      worker,
      ...(values.corrects !== '' ? { corrects: values.corrects } : {}),
    },
    { today, deliveredOn: '0000-01-01' },
  );
  if (!read.ok)
    for (const p of read.problems) {
      if (p.field === 'outcome') errors.push({ field: 'outcome', text: 'Select what happened' });
      else if (p.field === 'date') errors.push({ field: 'date', text: 'The date it happened must be today or in the past' });
      else if (p.field === 'corrects') errors.push({ field: 'corrects', text: 'Select an earlier record from the list, or none' });
      else errors.push({ field: p.field, text: `Your name cannot be recorded: ${p.message}` });
    }
  if (errors.length > 0 || !read.ok) return { ok: false, state: formState(values, errors) };
  return { ok: true, notificationId: values.notificationId, input: read.value };
}

/** The form's state with one more error (the store's verdict on a field, e.g. a date before the notification). */
export function formState(values: OutcomeFormState['values'], errors: readonly { field: string; text: string }[]): OutcomeFormState {
  return {
    values,
    errors: errors.map((e) => ({ text: e.text, href: HREF[e.field] ?? '#outcome' })),
    fieldErrors: Object.fromEntries(errors.map((e) => [e.field, { text: e.text }])),
  };
}

/** The "Offer of support" section of the household page: each baby's history and the form to record an outcome. */
export async function outcomeSection(
  loop: WorklistLoop,
  inbox: string,
  view: CentreFamily,
  now: Date,
  form?: OutcomeFormState,
): Promise<Record<string, unknown>> {
  const targetDays = loop.targetDays(inbox);
  const babies: { name: string; history: OutcomeHistory }[] = [];
  for (const b of view.babies) {
    const history = await loop.outcomes.history(inbox, b.notificationId);
    if (history === undefined) continue;
    const name = b.baby ? (personName(b.baby.name) ?? 'Baby (no name given)') : 'Withdrawn notification';
    babies.push({ name, history });
  }
  const open = babies.filter((b) => !b.history.withdrawn);
  const today = londonDateOf(now);
  const [year = '', month = '', day = ''] = today.split('-');
  const values = form?.values ?? { day: String(Number(day)), month: String(Number(month)), year };
  const correctable = open.flatMap((b) =>
    b.history.outcomes
      .filter((o) => o.correctedBy === undefined)
      .map((o) => ({
        value: o.id,
        text: `${open.length > 1 ? `${b.name}: ` : ''}${OUTCOME_TEXT[o.outcome]} on ${longDate(o.date) ?? o.date} by ${o.worker}`,
        selected: values.corrects === o.id,
      })),
  );
  const dateError = form?.fieldErrors.date ? ' govuk-input--error' : '';
  return {
    outcomeTargetDays: targetDays,
    outcomeBabies: babies.map((b) => ({
      name: b.name,
      withdrawn: b.history.withdrawn,
      due: longDate(contactDueBy(b.history.deliveredAt, targetDays)),
      overdue: isOverdue(b.history, targetDays, now),
      rows: b.history.outcomes.map((o) => [
        { text: longDate(o.date) ?? o.date },
        { text: `${OUTCOME_TEXT[o.outcome]}${o.correctedBy !== undefined ? ' (corrected by a later record)' : ''}` },
        { text: o.worker },
        { text: longDateTime(o.recordedAt) ?? '' },
      ]),
    })),
    outcomeForm:
      open.length === 0
        ? undefined
        : {
            babyItems:
              open.length > 1
                ? open.map((b) => ({
                    value: b.history.notificationId,
                    text: b.name,
                    checked: values.notificationId === b.history.notificationId,
                  }))
                : undefined,
            oneBaby: open.length === 1 ? open[0]?.history.notificationId : undefined,
            outcomeItems: OFFER_OUTCOMES.map((o) => ({ value: o, text: OUTCOME_TEXT[o], checked: values.outcome === o })),
            dateItems: [
              { name: 'day', classes: `govuk-input--width-2${dateError}`, value: values.day },
              { name: 'month', classes: `govuk-input--width-2${dateError}`, value: values.month },
              { name: 'year', classes: `govuk-input--width-4${dateError}`, value: values.year },
            ],
            correctsItems: correctable.length > 0 ? [{ value: '', text: 'None: this is a new record' }, ...correctable] : undefined,
            fieldErrors: form?.fieldErrors ?? {},
          },
    outcomeErrors: form?.errors,
  };
}
