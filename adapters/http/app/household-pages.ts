import { Router, type Request, type Response } from 'express';
import type { FamilyViewStore } from '../../../src/ports/family-view.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import type { CentreFamily } from '../../../src/pipeline/family-disclosure.js';
import { readNamedWorker } from '../../../src/domain/named-worker.js';
import { UUID } from '../routes/paging.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { addressLines, longDate, longDateTime, personName, spacedNhsNumber } from './family-view.js';
import { signedIn } from './sessions.js';
import type { SectionReader } from './household-consents.js';
import type { WorklistLoop } from './centre-pages.js';
import { formState, outcomeSection, readOutcomeForm, type OutcomeFormState } from './household-outcomes.js';
import { londonDateOf } from '../../../src/domain/offer-outcome.js';

const SEX: Record<string, string> = { male: 'Boy', female: 'Girl', other: 'Other', unknown: 'Not known' };
const STATUS: Record<string, string> = { new: 'New', acknowledged: 'Taken on', withdrawn: 'Withdrawn' };

const reader = (p: SignedInPerson): { actor: string; name: string } => ({ actor: `user:${p.sub}`, name: p.name });

const inboxOf = (res: Response): string => {
  const scope = signedIn(res)?.scope;
  if (scope === undefined) throw new Error('household page reached without a centre worker');
  return scope;
};

interface Row {
  key: { text: string };
  value: { text: string } | { html: string };
}

function row(key: string, value: string | string[] | undefined): Row {
  if (Array.isArray(value)) return { key: { text: key }, value: { html: value.map(escapeHtml).join('<br>') } };
  return { key: { text: key }, value: { text: value ?? 'Not given' } };
}

/** The page's content, in words: only what the view holds (the rule's dataset already bounded it). */
function householdContext(f: CentreFamily): Record<string, unknown> {
  const gp = f.gpPractice ? [f.gpPractice.name, f.gpPractice.odsCode].filter(Boolean).join(', ') : undefined;
  const motherName = personName(f.mother?.name);
  return {
    familyId: f.familyId,
    heading: motherName !== undefined ? `${motherName}'s family` : 'Family',
    motherRows: [
      row('Name', motherName),
      row('Address', addressLines(f.familyAddress)),
      row('Phone', f.mother?.phone),
      row('Preferred language', f.mother?.preferredLanguage),
    ],
    gpRows: [row('Practice', gp)],
    babies: f.babies.map((b) => ({
      href: `/app/families/${b.notificationId}`,
      name: b.baby ? (personName(b.baby.name) ?? 'Baby (no name given)') : 'Withdrawn notification',
      born: longDate(b.baby?.birthDate) ?? '',
      status: STATUS[b.status] ?? b.status,
    })),
    siblingRows: f.siblings.map((s) => [
      { text: personName(s.name) ?? 'Name not shared' },
      { text: s.sex !== undefined ? (SEX[s.sex] ?? s.sex) : '' },
      { text: longDate(s.birthDate) ?? '' },
      { text: spacedNhsNumber(s.nhsNumber) ?? '' },
    ]),
    namedWorker: f.namedWorker ? { name: f.namedWorker.name, since: longDateTime(f.namedWorker.assignedAt) } : undefined,
  };
}

/**
 * The whole family (issue 12 item 6) for a centre worker: the mother, the new babies this centre was sent, the
 * older siblings Stork knows that the centre may see, the GP and language, and the centre's named worker, whom the
 * worker can assign (themselves or a colleague) or clear, and (with `consents`) the family's consent and objection
 * records with the form to record a parent's call (household-consents.ts). The family must be the worker's own centre's (a
 * notification about it in effect in their inbox); any other id is the "not found" page. Every view is audited.
 */
export function householdPages(kit: PageKit, families: FamilyViewStore, consents?: SectionReader, loop?: WorklistLoop): WebPages {
  const router = Router();
  const worker = kit.requireRole('centre-worker');

  const show = async (
    req: Request,
    res: Response,
    form?: { error: string; value: string },
    status?: number,
    outcomeForm?: OutcomeFormState,
  ): Promise<void> => {
    const person = signedIn(res);
    if (!person) return;
    const inbox = inboxOf(res);
    const id = String(req.params.familyId);
    const view = UUID.test(id) ? await families.familyForCentre(inbox, id, reader(person), kit.clock()) : undefined;
    if (!view) {
      kit.notFound(res);
      return;
    }
    const context = householdContext(view);
    const consentSection = consents ? await consents(res, view.familyId) : undefined;
    const outcomes = loop ? await outcomeSection(loop, inbox, view, kit.clock(), outcomeForm) : undefined;
    kit.render(
      res,
      'household.njk',
      {
        title: context.heading,
        current: '/app/families',
        centreName: kit.inboxName(inbox) ?? inbox,
        ...context,
        ...(consentSection ?? {}),
        ...(outcomes ?? {}),
        outcomeRecorded: req.query.recorded === '1',
        consentsHref: `/app/households/${view.familyId}/consents`,
        assigned: req.query.assigned === '1',
        cleared: req.query.cleared === '1',
        workerValue: form?.value ?? person.name,
        ...(form ? { errors: [{ text: form.error, href: '#named-worker' }], workerError: { text: form.error } } : {}),
        ...(outcomeForm ? { errors: outcomeForm.errors } : {}),
      },
      status,
    );
  };

  router.get('/households/:familyId', worker, (req, res) => show(req, res));

  router.post('/households/:familyId/named-worker', worker, async (req: Request, res: Response) => {
    const person = signedIn(res);
    if (!person) return;
    const inbox = inboxOf(res);
    const id = String(req.params.familyId);
    const body = req.body as Record<string, unknown> | undefined;
    const clear = body?.action === 'clear';
    let name: string | undefined;
    if (!clear) {
      const read = readNamedWorker(body?.name);
      if ('problem' in read) {
        await show(req, res, { error: read.problem, value: typeof body?.name === 'string' ? body.name : '' }, 400);
        return;
      }
      name = read.name;
    }
    const result = UUID.test(id) ? await families.assignNamedWorker(inbox, id, name, reader(person), kit.clock()) : 'not-found';
    if (result === 'not-found') {
      kit.notFound(res);
      return;
    }
    res.redirect(303, `/app/households/${id}?${result === 'assigned' ? 'assigned' : 'cleared'}=1`);
  });

  // The offer-of-support loop (issue 15): what happened with the family, recorded as done by the person signed in.
  if (loop)
    router.post('/households/:familyId/outcomes', worker, async (req: Request, res: Response) => {
      const person = signedIn(res);
      if (!person) return;
      const inbox = inboxOf(res);
      const id = String(req.params.familyId);
      const now = kit.clock();
      if (!UUID.test(id)) {
        kit.notFound(res);
        return;
      }
      const today = londonDateOf(now);
      // Any notification of this inbox (the store checks): the form names one of the family's babies.
      const read = readOutcomeForm(req.body, person.name, today);
      if (!read.ok) {
        await show(req, res, undefined, 400, read.state);
        return;
      }
      const result = await loop.outcomes.record(inbox, read.notificationId, read.input, reader(person), now, today);
      if (result.kind === 'recorded') {
        res.redirect(303, `/app/households/${id}?recorded=1#offer-of-support`);
        return;
      }
      if (result.kind === 'not-found') {
        kit.notFound(res);
        return;
      }
      const body = req.body as Record<string, unknown>;
      const text = (k: string) => (typeof body[k] === 'string' ? body[k] : '');
      const values = {
        notificationId: read.notificationId,
        outcome: read.input.outcome,
        day: text('date-day'),
        month: text('date-month'),
        year: text('date-year'),
        corrects: read.input.corrects ?? '',
      };
      const error =
        result.kind === 'invalid'
          ? {
              field: result.field,
              text:
                result.field === 'date'
                  ? `The date it happened ${result.message}`
                  : result.field === 'corrects'
                    ? 'Select an earlier record of this baby, not yet corrected, or none'
                    : result.message,
            }
          : { field: 'notificationId', text: 'This notification was withdrawn: do not act on it' };
      await show(req, res, undefined, 400, formState(values, [error]));
    });

  return { nav: [], router };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
