import type { CentreFamily } from '../pipeline/family-disclosure.js';
import type { AuditActor } from './audit.js';

export type NamedWorkerResult = 'assigned' | 'cleared' | 'not-found';

/**
 * Whom a family's consent records are about, for one centre: the NHS numbers of the mothers and babies of every
 * notification about the family its inbox has had (withdrawn ones too: a centre that recorded an objection can still
 * see and withdraw it). Newest notification first.
 */
export interface FamilySubjects {
  /** The surviving family's id (after merges). */
  familyId: string;
  motherNhsNumbers: string[];
  babyNhsNumbers: string[];
  /** Whether a notification about it is still in effect in the inbox (the household page shows the family). */
  live: boolean;
}

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
  /** Whom the family's consent records are about for this centre, or undefined when its inbox never had it. */
  familySubjects(inboxId: string, familyId: string): Promise<FamilySubjects | undefined>;
}
