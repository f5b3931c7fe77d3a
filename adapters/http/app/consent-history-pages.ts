import { Router, type Request, type Response } from 'express';
import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import type { ConsentRecord } from '../../../src/domain/consent.js';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import { newestFirstRecords } from '../../../src/pipeline/consent/centre-records.js';
import { withdrawConsent, type ConsentDeps } from '../../../src/processing/record-consents.js';
import { UUID } from '../routes/paging.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { consentLine, type ConsentLine } from './consent-sentences.js';
import { spacedNhsNumber } from './family-view.js';

export interface ConsentHistoryDeps {
  consents: ConsentDeps;
  laName: (id: string) => string | undefined;
}

const HISTORY = '/app/consents';
const recordHref = (id: string): string => `${HISTORY}/records/${id}`;
const person = (p: SignedInPerson): { actor: string; name: string } => ({ actor: `user:${p.sub}`, name: p.name });

/** The NHS number typed, checked: ten digits (spaces allowed) with a right Modulus 11 check digit. */
export function readNhsNumber(raw: unknown): { ok: true; value: string } | { ok: false; message: string; typed: string } {
  const typed = typeof raw === 'string' ? raw.trim().slice(0, 20) : '';
  const digits = typed.replace(/[\s-]/g, '');
  if (digits === '') return { ok: false, message: 'Enter an NHS number', typed };
  if (!/^\d{10}$/.test(digits)) return { ok: false, message: 'NHS number must be 10 digits, like 943 476 5919', typed };
  if (!isValidNhsNumber(digits)) return { ok: false, message: 'Enter a real NHS number: this one’s check digit is wrong', typed };
  return { ok: true, value: digits };
}

/** The rows of one record as the IG lead reads it: everything the register holds, in words. */
function recordRows(line: ConsentLine): { key: { text: string }; value: { text: string } }[] {
  const row = (key: string, text: string): { key: { text: string }; value: { text: string } } => ({ key: { text: key }, value: { text } });
  return [
    row('Status', line.active ? 'Current' : 'Withdrawn'),
    row('Scope', line.scope.charAt(0).toUpperCase() + line.scope.slice(1)),
    ...(line.mother !== undefined ? [row('Mother’s NHS number', line.mother)] : []),
    ...(line.baby !== undefined ? [row('Baby’s NHS number', line.baby)] : []),
    row('Recorded', `${line.recordedAt} by ${line.recordedBy}`),
    row('Source', line.source),
    row('Recipient', line.recipient),
    row('Applies', line.period),
    ...(line.purpose !== undefined ? [row('Purpose or note', line.purpose)] : []),
    ...(line.withdrawal !== undefined ? [row('Withdrawal', line.withdrawal)] : []),
  ];
}

/**
 * The IG lead's consent history (issue 13): an NHS number (mother or baby) typed into a form sent by POST, so the
 * number never appears in a URL, a browser history or an access log; every record about that person, withdrawn
 * ones included, newest first, with who recorded it, its source, scope, recipient, period and withdrawal. The read is
 * audited exactly as the API's `GET /v1/consents` (`read`, details.query `consent-history`). A record is opened by
 * its id (a read audited as `consent-record`), and an IG lead may withdraw it, as the API allows, after a
 * confirmation step.
 */
export function consentHistoryPages(kit: PageKit, deps: ConsentHistoryDeps): WebPages {
  const router = Router();
  const igLead = kit.requireRole('ig-lead');
  const names = { inboxName: kit.inboxName, laName: deps.laName };
  const base = { title: 'Consent history', current: HISTORY };

  router.get('/consents', igLead, (_req, res) => {
    kit.render(res, 'ig/consent-history.njk', { ...base, nhsNumber: '' });
  });

  router.post('/consents', igLead, async (req: Request, res: Response) => {
    const who = signedIn(res);
    if (!who) return;
    const read = readNhsNumber((req.body as Record<string, unknown> | undefined)?.nhsNumber);
    if (!read.ok) {
      kit.render(
        res,
        'ig/consent-history.njk',
        { ...base, nhsNumber: read.typed, errors: [{ text: read.message, href: '#nhsNumber' }], nhsNumberError: read.message },
        400,
      );
      return;
    }
    const records = await deps.consents.register.history(read.value, person(who), deps.consents.clock());
    kit.render(res, 'ig/consent-history.njk', {
      ...base,
      nhsNumber: spacedNhsNumber(read.value),
      searched: spacedNhsNumber(read.value),
      records: newestFirstRecords(records).map((r) => {
        const line = consentLine(r, names);
        return { line, rows: recordRows(line), href: recordHref(r.id) };
      }),
    });
  });

  const open = async (req: Request, res: Response): Promise<ConsentRecord | undefined> => {
    const who = signedIn(res);
    const id = String(req.params.id);
    return who && UUID.test(id) ? deps.consents.register.record(id.toLowerCase(), person(who), deps.consents.clock()) : undefined;
  };

  router.get('/consents/records/:id', igLead, async (req, res) => {
    const record = await open(req, res);
    if (!record) {
      kit.notFound(res);
      return;
    }
    const line = consentLine(record, names);
    kit.render(res, 'ig/consent-record.njk', {
      title: line.what,
      current: HISTORY,
      line,
      rows: recordRows(line),
      withdrawn: req.query.withdrawn === '1',
      withdrawHref: line.active ? `${recordHref(record.id)}/withdraw` : undefined,
    });
  });

  router.get('/consents/records/:id/withdraw', igLead, async (req, res) => {
    const record = await open(req, res);
    if (!record || record.withdrawnAt !== undefined) {
      kit.notFound(res);
      return;
    }
    const line = consentLine(record, names);
    kit.render(res, 'consents/withdraw.njk', {
      title: 'Are you sure you want to withdraw this record?',
      current: HISTORY,
      line,
      rows: recordRows(line),
      action: `${recordHref(record.id)}/withdraw`,
      cancelHref: recordHref(record.id),
    });
  });

  router.post('/consents/records/:id/withdraw', igLead, async (req, res) => {
    const who = signedIn(res);
    const id = String(req.params.id).toLowerCase();
    const outcome =
      who && UUID.test(id) ? await withdrawConsent(deps.consents, id, person(who), () => true) : { kind: 'not-found' as const };
    if (outcome.kind === 'not-found') {
      kit.notFound(res);
      return;
    }
    res.redirect(303, `${recordHref(id)}?withdrawn=1`);
  });

  return { nav: [{ href: HISTORY, text: 'Consent history', roles: ['ig-lead'] }], router };
}
