/**
 * Recording in the consent register (issue 13 item 2), and what a record does at once: every live
 * notification about the family is decided again (reconsider-consent.ts) in the same transaction, so an
 * objection withdraws a delivered notification before the API answers. Used by `POST /v1/consents` and its
 * withdrawal, and by processing for the consents a message carried.
 *
 * Order inside a transaction, the same everywhere: the family's register locks (advisory, by NHS number), then
 * notification rows, then the records are read. Processing takes the same locks before it reads the records a
 * birth is decided with, so a consent recorded while a birth of that family is processed is seen by one or the other.
 */
import { randomUUID } from 'node:crypto';
import type { BirthNotification } from '../domain/birth-notification.js';
import type { ConsentRecord, ConsentStatement } from '../domain/consent.js';
import { actorFields, type AuditActor, type AuditEventInput } from '../ports/audit.js';
import type { ConsentRegister, ConsentTransaction, FamilyNotification, NewConsentRecord } from '../ports/consent-register.js';
import { reconsider, type Replan } from './reconsider-consent.js';

export interface ConsentDeps {
  register: ConsentRegister;
  replan: Replan;
  clock: () => Date;
  /**
   * Decides again the mother's antenatal bookings (antenatal-bookings.ts redecideBookings), after a record about her
   * in scope `antenatal` is recorded or withdrawn; returns how many were delivered and withdrawn. Absent: the hub
   * takes no bookings.
   */
  antenatal?: RedecideBookings;
}

/** Decides again the mother's antenatal bookings after a consent change (antenatal-bookings.ts redecideBookings). */
export type RedecideBookings = (
  motherNhsNumber: string,
  actor: string,
  cause: { consentId: string },
) => Promise<{ delivered: number; withdrawn: number }>;

/** What a consent change did to notifications already made (counts only). */
export interface ConsentEffects {
  withdrawn: number;
  updated: number;
  /** Held back by an objection now lifted: delivered to their inbox again. */
  redelivered: number;
  /** Antenatal bookings withheld (no consent, an objection) or held by a consent change, now delivered to the covering centre. */
  antenatalDelivered?: number;
  /** Antenatal bookings delivered, now withdrawn from the centre (her consent withdrawn or over, an objection). */
  antenatalWithdrawn?: number;
}

/**
 * After the record's transaction: its mother's antenatal bookings, decided again. Only a record in scope `antenatal`
 * naming the mother (and no baby) can change a booking's decision (antenatalConsent), so only such a record does this.
 */
export async function withAntenatal(
  redecide: RedecideBookings | undefined,
  r: Pick<ConsentRecord, 'id' | 'scope' | 'motherNhsNumber' | 'babyNhsNumber'>,
  actor: string,
  effects: ConsentEffects,
): Promise<ConsentEffects> {
  if (redecide === undefined || r.scope !== 'antenatal' || r.motherNhsNumber === undefined || r.babyNhsNumber !== undefined) return effects;
  const done = await redecide(r.motherNhsNumber, actor, { consentId: r.id });
  return { ...effects, antenatalDelivered: done.delivered, antenatalWithdrawn: done.withdrawn };
}

/** The NHS numbers a statement is about. */
export function subjectsOf(s: Pick<ConsentStatement, 'motherNhsNumber' | 'babyNhsNumber'>): string[] {
  return [s.babyNhsNumber, s.motherNhsNumber].filter((x): x is string => x !== undefined);
}

/** The NHS numbers of a birth record (its baby's and mother's). */
export function subjectsOfRecord(n: BirthNotification): string[] {
  return [n.baby.nhsNumber, n.mother?.nhsNumber].filter((x): x is string => x !== undefined);
}

/** The field names a statement gave (never their values), for the audit. */
function givenFields(s: ConsentStatement): string[] {
  return Object.keys(s).sort();
}

/** `consent-recorded`: the record's id, kind, scope, source and recipient; the subject in the subject column only. */
export function consentRecordedEvent(r: ConsentRecord, at: Date, by: AuditActor, messageId?: string): AuditEventInput {
  const subject = r.babyNhsNumber ?? r.motherNhsNumber;
  const who = actorFields(by);
  return {
    at,
    actor: who.actor,
    action: 'consent-recorded',
    ...(messageId !== undefined ? { messageId } : {}),
    ...(subject !== undefined ? { subjectNhsNumber: subject } : {}),
    outcome: r.kind,
    details: {
      ...who.details,
      consentId: r.id,
      kind: r.kind,
      scope: r.scope,
      source: r.source,
      recipient: r.recipient,
      fields: givenFields(r),
    },
  };
}

/** A person's name beside their actor id (a web app user), for the record itself. */
function nameOf(by: AuditActor): { name?: string } {
  return typeof by === 'string' ? {} : { name: by.name };
}

/**
 * Decides again the live notifications about these NHS numbers (locked here), and those an objection holds back,
 * under every record about their families as the register now stands, and saves what changed with its audit.
 */
export async function applyToLive(
  tx: ConsentTransaction,
  subjects: readonly string[],
  replan: Replan,
  at: Date,
  actor: string,
  cause: { consentId?: string; messageId?: string },
  skip: ReadonlySet<string> = new Set(),
): Promise<ConsentEffects> {
  const live: FamilyNotification[] = (await tx.lockLiveAbout(subjects)).filter((n) => !skip.has(n.id));
  if (live.length === 0) return { withdrawn: 0, updated: 0, redelivered: 0 };
  const family = new Set(subjects);
  for (const n of live) for (const s of subjectsOfRecord(n.record)) family.add(s);
  const records = await tx.recordsAbout([...family]);
  const result = reconsider(live, records, replan, at, actor, cause);
  await tx.withdrawNotifications(result.withdraw, at);
  await tx.saveRedecided(result.redecided, at);
  // The rows are locked (above) and still held, so every redelivery planned is made.
  const redelivered = await tx.redeliver(result.redeliver, at);
  await tx.appendAudit(result.audit);
  return { withdrawn: result.withdraw.length, updated: result.redecided.length, redelivered: redelivered.length };
}

export type RecordOutcome = { kind: 'recorded'; record: ConsentRecord; effects: ConsentEffects } | { kind: 'not-own-family' };

/**
 * Records one statement for `by`: an API client (`client:<id>`) or a person in the web app (`user:<sub>` with their
 * name, kept on the record and in the audit). With `ownInbox` (a centre), only for a family that inbox has had a
 * notification about; otherwise nothing is recorded and the answer says so.
 */
export async function recordConsent(
  deps: ConsentDeps,
  statement: ConsentStatement,
  by: AuditActor,
  ownInbox?: string,
): Promise<RecordOutcome> {
  const at = deps.clock();
  const subjects = subjectsOf(statement);
  const actor = actorFields(by).actor;
  const name = nameOf(by).name;
  const outcome: RecordOutcome = await deps.register.transaction(async (tx) => {
    await tx.lockSubjects(subjects);
    if (ownInbox !== undefined && !(await tx.inboxHasFamily(ownInbox, subjects))) return { kind: 'not-own-family' };
    const record: ConsentRecord = {
      ...statement,
      id: randomUUID(),
      recordedAt: at.toISOString(),
      recordedBy: actor,
      ...(name !== undefined ? { recordedByName: name } : {}),
    };
    await tx.insert([record]);
    await tx.appendAudit([consentRecordedEvent(record, at, by)]);
    const effects = await applyToLive(tx, subjects, deps.replan, at, actor, { consentId: record.id });
    return { kind: 'recorded', record, effects };
  });
  if (outcome.kind !== 'recorded') return outcome;
  return { ...outcome, effects: await withAntenatal(deps.antenatal, outcome.record, actor, outcome.effects) };
}

export type WithdrawOutcome =
  | { kind: 'withdrawn'; record: ConsentRecord; effects: ConsentEffects }
  | { kind: 'already-withdrawn'; record: ConsentRecord }
  | { kind: 'not-found' };

/**
 * Withdraws a record (appends the withdrawal; the record itself is kept). `may` says whether this actor may
 * withdraw that record; when not, the answer is `not-found`, as for a record that does not exist.
 */
export async function withdrawConsent(
  deps: ConsentDeps,
  id: string,
  by: AuditActor,
  may: (r: ConsentRecord) => boolean,
): Promise<WithdrawOutcome> {
  const at = deps.clock();
  const who = actorFields(by);
  const actor = who.actor;
  const name = nameOf(by).name;
  const outcome: WithdrawOutcome = await deps.register.transaction(async (tx) => {
    const found = await tx.get(id);
    if (found === undefined || !may(found)) return { kind: 'not-found' };
    const subjects = subjectsOf(found);
    await tx.lockSubjects(subjects);
    if (!(await tx.withdraw(id, actor, at, name))) return { kind: 'already-withdrawn', record: found };
    const record: ConsentRecord = {
      ...found,
      withdrawnAt: at.toISOString(),
      withdrawnBy: actor,
      ...(name !== undefined ? { withdrawnByName: name } : {}),
    };
    const subject = found.babyNhsNumber ?? found.motherNhsNumber;
    await tx.appendAudit([
      {
        at,
        actor,
        action: 'consent-withdrawn',
        ...(subject !== undefined ? { subjectNhsNumber: subject } : {}),
        outcome: found.kind,
        details: { ...who.details, consentId: id, kind: found.kind, scope: found.scope },
      },
    ]);
    const effects = await applyToLive(tx, subjects, deps.replan, at, actor, { consentId: id });
    return { kind: 'withdrawn', record, effects };
  });
  if (outcome.kind !== 'withdrawn') return outcome;
  return { ...outcome, effects: await withAntenatal(deps.antenatal, outcome.record, actor, outcome.effects) };
}

/**
 * The consents a batch's messages carried, as register records: recorded by `message:<id>`, numbered by their
 * place in the message so that processing the message again records none twice.
 */
export function carriedConsents(
  births: readonly { messageId: string; consents: readonly ConsentStatement[] }[],
  at: Date,
): NewConsentRecord[] {
  return births.flatMap((b) =>
    b.consents.map((s, ordinal) => ({
      ...s,
      id: randomUUID(),
      recordedAt: at.toISOString(),
      recordedBy: `message:${b.messageId}`,
      messageId: b.messageId,
      ordinal,
    })),
  );
}
