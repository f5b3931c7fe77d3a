/**
 * The consent-period job (issue 13): a consent or objection whose period starts or ends on a later day changes
 * what applies on that day, with nobody recording anything. Once each London day (the hub runs it every few
 * minutes; it does nothing more until the date changes), the records whose period started or ended since the
 * day the job last covered have their families' notifications decided again, exactly as recording a record does
 * (record-consents.ts, under the family's register locks): an objection that ended delivers again what it held
 * back, a clinical-details consent that ended rebuilds the disclosed record without the birth details, one that
 * starts withdraws or rebuilds. A mother's `antenatal` record has her antenatal bookings decided again too
 * (antenatal-bookings.ts redecideBookings): a consent that ended withdraws a delivered booking, one that starts (or an
 * objection that ended) delivers a withheld or held one. The day covered is saved only after every family is done,
 * so a crash or restart covers the same days again (deciding again is idempotent) and never skips one.
 */
import { localDateOf } from '../domain/hl7-datetime.js';
import type { Logger } from '../logger.js';
import type { ConsentRegister } from '../ports/consent-register.js';
import { applyToLive, withAntenatal, type ConsentEffects, type RedecideBookings } from './record-consents.js';
import type { Replan } from './reconsider-consent.js';

/** The job's name in `scheduled_runs`, and the actor of what it changes. */
export const CONSENT_PERIODS_JOB = 'consent-periods';
export const CONSENT_PERIODS_ACTOR = 'system:consent-periods';

export interface ConsentPeriodDeps {
  register: ConsentRegister;
  replan: Replan;
  clock: () => Date;
  logger: Logger;
  /** Decides again a mother's antenatal bookings (as ConsentDeps.antenatal); absent: the hub takes no bookings. */
  antenatal?: RedecideBookings;
}

export interface ConsentPeriodRun {
  /** The London day covered. */
  day: string;
  /** The day covered before, if the job ran before. */
  since?: string;
  /** Records whose period started or ended in between. */
  records: number;
  effects: ConsentEffects;
}

/**
 * Runs the job for today (London) if it has not covered today yet; returns what it did, or undefined when today
 * was covered already.
 */
export async function runConsentPeriods(deps: ConsentPeriodDeps): Promise<ConsentPeriodRun | undefined> {
  const at = deps.clock();
  const day = localDateOf(at);
  const since = await deps.register.lastRun(CONSENT_PERIODS_JOB);
  if (since !== undefined && since >= day) return undefined;
  const boundaries = await deps.register.periodBoundaries(since, day);
  const effects: ConsentEffects = { withdrawn: 0, updated: 0, redelivered: 0 };
  for (const b of boundaries) {
    // One transaction per record, under its family's locks: a birth of that family being processed waits, or is waited for.
    const births = await deps.register.transaction(async (tx) => {
      await tx.lockSubjects(b.nhsNumbers);
      return applyToLive(tx, b.nhsNumbers, deps.replan, at, CONSENT_PERIODS_ACTOR, { consentId: b.consentId });
    });
    const e = await withAntenatal(deps.antenatal, { id: b.consentId, ...b }, CONSENT_PERIODS_ACTOR, births);
    effects.withdrawn += e.withdrawn;
    effects.updated += e.updated;
    effects.redelivered += e.redelivered;
    if (e.antenatalDelivered !== undefined) effects.antenatalDelivered = (effects.antenatalDelivered ?? 0) + e.antenatalDelivered;
    if (e.antenatalWithdrawn !== undefined) effects.antenatalWithdrawn = (effects.antenatalWithdrawn ?? 0) + e.antenatalWithdrawn;
  }
  await deps.register.saveRun(CONSENT_PERIODS_JOB, day, at);
  // Counts only: a day in a log line could be a baby's date of birth for all a log reader knows.
  deps.logger.info({ records: boundaries.length, ...effects }, 'consent periods decided again');
  return { day, ...(since !== undefined ? { since } : {}), records: boundaries.length, effects };
}
