import { Router, type Request, type Response } from 'express';
import type { ConsentRecord, ConsentStatement } from '../../../src/domain/consent.js';
import type { FamilySubjects, FamilyViewStore } from '../../../src/ports/family-view.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import { centreRecipients, centreRecorded, isAboutFamily, recordsForCentre } from '../../../src/pipeline/consent/centre-records.js';
import { recordConsent, withdrawConsent, type ConsentDeps } from '../../../src/processing/record-consents.js';
import { UUID } from '../routes/paging.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { emptyConsentForm, readConsentForm, type ConsentFormValues } from './consent-form.js';
import { consentLine, type ConsentLine } from './consent-sentences.js';

export interface HouseholdConsentDeps {
  families: FamilyViewStore;
  consents: ConsentDeps;
  /** The local authorities a centre belongs to (its records may name them as recipient). */
  localAuthorities: (inboxId: string) => readonly string[];
  laName: (id: string) => string | undefined;
}

/** What the household page shows of the family's consent records (consents/records.njk and consents/form.njk). */
export interface ConsentSection {
  consentLines: (ConsentLine & { withdrawHref?: string })[];
  consentAction: string;
  consentValues: ConsentFormValues;
}

const person = (p: SignedInPerson): { actor: string; name: string } => ({ actor: `user:${p.sub}`, name: p.name });

const base = (familyId: string): string => `/app/households/${familyId}/consents`;

/**
 * The consent register for a centre worker (issue 13): on a family's pages, the consent and objection records that
 * apply to this centre (current and withdrawn, newest first, in words), a form to record what a parent said by phone
 * (source `parent-by-phone`, recipient this centre only), and the withdrawal of a record the centre made, after a
 * confirmation step. Recording and withdrawing go through the API's own code (record-consents.ts): an objection
 * withdraws the family's notifications at once. The family must be one the centre's inbox has had a notification
 * about, the API's rule (withdrawn ones count, so a worker can still see and undo an objection); anything else is
 * "not found". The worker (`user:<sub>`, with their name) is the recorder and the audit actor; every read is audited.
 */
export function householdConsentPages(kit: PageKit, deps: HouseholdConsentDeps): WebPages & { section: SectionReader } {
  const router = Router();
  const worker = kit.requireRole('centre-worker');
  const names = { inboxName: kit.inboxName, laName: deps.laName };

  /** The family's NHS numbers for this centre, and the records about it for this centre (the read audited). */
  const load = async (
    res: Response,
    familyId: string,
  ): Promise<{ who: SignedInPerson; inbox: string; family: FamilySubjects; records: ConsentRecord[] } | undefined> => {
    const who = signedIn(res);
    const inbox = who?.scope;
    if (!who || inbox === undefined || !UUID.test(familyId)) return undefined;
    const family = await deps.families.familySubjects(inbox, familyId);
    if (!family) return undefined;
    const subjects = [...family.motherNhsNumbers, ...family.babyNhsNumbers];
    const all = await deps.consents.register.familyRecords(
      subjects,
      { reader: person(who), inboxId: inbox, familyId: family.familyId },
      deps.consents.clock(),
    );
    return { who, inbox, family, records: recordsForCentre(all, family, centreRecipients(inbox, deps.localAuthorities(inbox))) };
  };

  const lines = (records: readonly ConsentRecord[], inbox: string, familyId: string): ConsentSection['consentLines'] =>
    records.map((r) => ({
      ...consentLine(r, names),
      ...(r.withdrawnAt === undefined && centreRecorded(r, inbox) ? { withdrawHref: `${base(familyId)}/${r.id}/withdraw` } : {}),
    }));

  const section: SectionReader = async (res, familyId) => {
    const loaded = await load(res, familyId);
    if (!loaded) return undefined;
    return {
      consentLines: lines(loaded.records, loaded.inbox, loaded.family.familyId),
      consentAction: base(loaded.family.familyId),
      consentValues: emptyConsentForm(),
    };
  };

  const page = async (
    req: Request,
    res: Response,
    form?: { values: ConsentFormValues; fieldErrors: Record<string, string>; errors: unknown[] },
  ): Promise<void> => {
    const loaded = await load(res, String(req.params.familyId));
    if (!loaded) {
      kit.notFound(res);
      return;
    }
    const { inbox, family, records } = loaded;
    kit.render(
      res,
      'household-consents.njk',
      {
        title: 'Consent and objections',
        current: '/app/families',
        centreName: kit.inboxName(inbox) ?? inbox,
        familyId: family.familyId,
        live: family.live,
        banner: form ? undefined : bannerOf(req.query),
        consentLines: lines(records, inbox, family.familyId),
        consentAction: base(family.familyId),
        consentValues: form?.values ?? emptyConsentForm(),
        ...(form ? { errors: form.errors, consentFieldErrors: form.fieldErrors } : {}),
      },
      form ? 400 : 200,
    );
  };

  router.get('/households/:familyId/consents', worker, (req, res) => page(req, res));

  router.post('/households/:familyId/consents', worker, async (req: Request, res: Response) => {
    const who = signedIn(res);
    const inbox = who?.scope;
    const familyId = String(req.params.familyId);
    const family = who && inbox !== undefined && UUID.test(familyId) ? await deps.families.familySubjects(inbox, familyId) : undefined;
    if (!who || inbox === undefined || !family) {
      kit.notFound(res);
      return;
    }
    const form = readConsentForm((req.body as Record<string, unknown> | undefined) ?? {});
    if (form.kind === 'invalid') {
      await page(req, res, form);
      return;
    }
    // About the mother when Stork knows her NHS number (a record naming no baby covers all her babies), else the newest baby.
    const mother = family.motherNhsNumbers[0];
    const baby = family.babyNhsNumbers[0];
    if (mother === undefined && baby === undefined) {
      const message = 'Stork has no NHS number for this family, so it cannot record what the parent said';
      await page(req, res, { values: form.values, fieldErrors: { kind: message }, errors: [{ text: message, href: '#kind' }] });
      return;
    }
    const statement: ConsentStatement = {
      ...form.statement,
      recipient: `centre:${inbox}`,
      source: 'parent-by-phone',
      ...(mother !== undefined ? { motherNhsNumber: mother } : { babyNhsNumber: baby }),
    };
    const outcome = await recordConsent(deps.consents, statement, person(who), inbox);
    if (outcome.kind === 'not-own-family') {
      kit.notFound(res);
      return;
    }
    res.redirect(303, `${base(family.familyId)}?recorded=${statement.kind}&removed=${outcome.effects.withdrawn}`);
  });

  /** The record this centre may withdraw, about this family, still current; else undefined. */
  const withdrawable = async (
    req: Request,
    res: Response,
  ): Promise<{ loaded: NonNullable<Awaited<ReturnType<typeof load>>>; record: ConsentRecord } | undefined> => {
    const id = String(req.params.consentId);
    const loaded = UUID.test(id) ? await load(res, String(req.params.familyId)) : undefined;
    const record = loaded?.records.find((r) => r.id === id && r.withdrawnAt === undefined && centreRecorded(r, loaded.inbox));
    return loaded && record ? { loaded, record } : undefined;
  };

  router.get('/households/:familyId/consents/:consentId/withdraw', worker, async (req, res) => {
    const found = await withdrawable(req, res);
    if (!found) {
      kit.notFound(res);
      return;
    }
    const line = consentLine(found.record, names);
    const back = base(found.loaded.family.familyId);
    kit.render(res, 'consents/withdraw.njk', {
      title: 'Are you sure you want to withdraw this record?',
      current: '/app/families',
      line,
      rows: [
        { key: { text: 'Recorded' }, value: { text: `${line.recordedAt} by ${line.recordedBy}` } },
        { key: { text: 'Applies' }, value: { text: line.period } },
        ...(line.purpose !== undefined ? [{ key: { text: 'Note' }, value: { text: line.purpose } }] : []),
      ],
      action: `${back}/${found.record.id}/withdraw`,
      cancelHref: back,
    });
  });

  router.post('/households/:familyId/consents/:consentId/withdraw', worker, async (req, res) => {
    const who = signedIn(res);
    const inbox = who?.scope;
    const familyId = String(req.params.familyId);
    const id = String(req.params.consentId);
    const family =
      who && inbox !== undefined && UUID.test(familyId) && UUID.test(id) ? await deps.families.familySubjects(inbox, familyId) : undefined;
    if (!who || inbox === undefined || !family) {
      kit.notFound(res);
      return;
    }
    const outcome = await withdrawConsent(deps.consents, id, person(who), (r) => isAboutFamily(r, family) && centreRecorded(r, inbox));
    if (outcome.kind === 'not-found') {
      kit.notFound(res);
      return;
    }
    res.redirect(303, `${base(family.familyId)}?withdrawn=1`);
  });

  return { nav: [], router, section };
}

/** The household page's consent section for this family, or undefined when it is not the centre's. */
export type SectionReader = (res: Response, familyId: string) => Promise<ConsentSection | undefined>;

/** The success banner after a redirect (POST-redirect-GET): what was recorded or withdrawn, and what it did. */
function bannerOf(query: Request['query']): { heading: string; body?: string } | undefined {
  if (query.withdrawn === '1') return { heading: 'Record withdrawn', body: 'It stays in this family’s history, marked withdrawn.' };
  const recorded = query.recorded;
  if (recorded !== 'objection' && recorded !== 'consent') return undefined;
  const removed = Number(query.removed);
  return {
    heading: recorded === 'objection' ? 'Objection recorded' : 'Consent recorded',
    ...(Number.isInteger(removed) && removed > 0
      ? {
          body:
            removed === 1
              ? 'The notification about this family has been withdrawn from your inbox and its details removed.'
              : `${removed} notifications about this family have been withdrawn from your inbox and their details removed.`,
        }
      : {}),
  };
}
