import type { CentreFamily } from '../pipeline/family-disclosure.js';
import type { AuditActor } from './audit.js';

export type NamedWorkerResult = 'assigned' | 'cleared' | 'not-found';

/**
 * A centre's reads of whole families (issue 12 item 6) and its one write, the named worker. Every read is audited
 * as a read, by the centre's client or person, of each notification whose data the view shows.
 */
export interface FamilyViewStore {
  /** The family as this centre may see it (see centreFamilyView), or undefined when it is not this centre's. */
  familyForCentre(inboxId: string, familyId: string, reader: AuditActor, at: Date): Promise<CentreFamily | undefined>;
  /**
   * Assigns (a name) or clears (undefined) this centre's named worker for a family it may see; audited. A family
   * that is not this centre's is `not-found`, exactly as one that does not exist.
   */
  assignNamedWorker(inboxId: string, familyId: string, worker: string | undefined, by: AuditActor, at: Date): Promise<NamedWorkerResult>;
}
