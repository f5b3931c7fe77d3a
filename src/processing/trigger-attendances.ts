/**
 * Processing of A&E attendances for the triggers (issue 17 item 2): each attendance, in its own transaction, finds the
 * family its patient leads, takes the trigger agreement of that family's local authority, decides (evaluate-trigger.ts)
 * and stores the firings and every decision's audit. Firings go to the recipient's queue in the same commit (the queue
 * is a table the early-help team reads in the web app, so no delivery job is needed); held firings wait for review.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Attendance } from '../domain/trigger.js';
import type { TriggerAgreement } from '../domain/trigger.js';
import { candidateTriggers, evaluateAttendance, type DeclaredTrigger } from '../pipeline/triggers/evaluate-trigger.js';
import type { ParentFamily, TriggerStore } from '../ports/triggers.js';

export interface QueuedAttendance {
  messageId: string;
  attendance: Attendance;
}

export interface TriggerDeps {
  store: TriggerStore;
  /** Every declared trigger with its agreement. */
  triggers: readonly DeclaredTrigger[];
  /** The trigger agreement of the family's local authority (undefined: none); see src/pipeline/triggers/area.ts. */
  agreementForFamily: (family: ParentFamily) => TriggerAgreement | undefined;
  logger: Logger;
  clock: () => Date;
}

export async function processAttendances(deps: TriggerDeps, attendances: readonly QueuedAttendance[]): Promise<void> {
  const counts = { fired: 0, held: 0, notFired: 0, skipped: 0 };
  for (const a of attendances) {
    const candidates = candidateTriggers(a.attendance, deps.triggers);
    const at = deps.clock();
    const result = await deps.store.processAttendance(
      a.messageId,
      a.attendance.patient.nhsNumber,
      (family) =>
        evaluateAttendance({
          messageId: a.messageId,
          attendance: a.attendance,
          candidates,
          family,
          areaAgreement: family ? deps.agreementForFamily(family) : undefined,
          at,
          newId: randomUUID,
        }),
      at,
    );
    if (result === undefined) {
      counts.skipped++;
      continue;
    }
    for (const f of result.firings) counts[f.status === 'held' ? 'held' : 'fired']++;
    counts.notFired += result.notFired.length;
  }
  deps.logger.info({ attendances: attendances.length, ...counts }, 'attendances processed for triggers');
}
