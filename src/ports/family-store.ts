/**
 * Family records (issue 12, migration 014): a household led by the mother (or the person with parental
 * responsibility), its children, its current address and centre, the notifications linked to it (with how each
 * was matched) and what built it. The store saves what it is told; matching (src/pipeline/family-match.ts and
 * src/processing/match-families.ts) decides.
 */
import type { Address, GpPractice, NhsNumberStatus, PersonName } from '../domain/birth-notification.js';
import type { AuditActor, AuditEventInput } from './audit.js';

/** The lead person of a family, as matching reads it and a centre may see it (never logged). */
export interface FamilyLead {
  name?: PersonName;
  /** YYYY-MM-DD */
  birthDate?: string;
  nhsNumber?: string;
  nhsNumberStatus?: NhsNumberStatus;
  phone?: string;
  preferredLanguage?: string;
}

export type FamilyOrigin = 'notification' | 'register-import';

/** How a notification came to its family. */
export type FamilyLinkMethod = 'nhs-number' | 'probabilistic' | 'review-confirmed' | 'new-family' | 'merge' | 'link';

/** One field's part in a probabilistic score: names, levels and weights only, never values. */
export interface FieldContributionRecord {
  field: string;
  level: string;
  weight: number;
}

/** A live family (not merged into another) as matching and the family view read it. */
export interface FamilyRecord {
  id: string;
  lead: FamilyLead;
  leadNhsNumber?: string;
  address?: Address;
  gp?: GpPractice;
  preferredLanguage?: string;
  /** The inbox id of the centre the family uses. */
  centre?: string;
  namedWorker?: string;
  origin: FamilyOrigin;
  mergedInto?: string;
}

export interface NewFamily {
  id: string;
  lead: FamilyLead;
  address?: Address;
  gp?: GpPractice;
  preferredLanguage?: string;
  centre?: string;
  origin: FamilyOrigin;
  /** The lead's blocking keys (src/matching blockingKeys), saved with it. */
  blockKeys: readonly string[];
  at: Date;
}

/** A child of a family: twins and triplets are distinct children (distinct keys), never merged. */
export interface NewChild {
  familyId: string;
  /** `nhs:<baby NHS number>`, else `notification:<id>`, else `register:<centre>:<local id>`. */
  childKey: string;
  notificationId?: string;
  /** What is known of the child (name, sex, birth date, NHS number): shown to the family's centre only. */
  record: Record<string, unknown>;
  at: Date;
}

export interface FamilyLinkInput {
  notificationId: string;
  familyId: string;
  method: FamilyLinkMethod;
  score?: number;
  contributions?: readonly FieldContributionRecord[];
  at: Date;
}

/** The newest record's view of a family: what it sets (fields left undefined are kept). */
export interface FamilyRefresh {
  familyId: string;
  lead?: FamilyLead;
  address?: Address;
  gp?: GpPractice;
  preferredLanguage?: string;
  centre?: string;
  /** The lead's blocking keys now (replacing the old ones), when lead or address changed. */
  blockKeys?: readonly string[];
  at: Date;
}

/**
 * What built a family besides its notifications (those are its family_links, not repeated here, to keep a birth's
 * writes few): a register import's rows, a review, a merge.
 */
export interface FamilySourceInput {
  familyId: string;
  /** `register-import` (ref `<importId>#<row>`), `review` (the review id), `merge` (the family merged in), … */
  kind: string;
  ref: string;
  at: Date;
}

export type MatchReviewStatus = 'pending' | 'confirmed' | 'rejected';

export interface NewMatchReview {
  id: string;
  notificationId: string;
  candidateFamilyId: string;
  provisionalFamilyId: string;
  score: number;
  contributions: readonly FieldContributionRecord[];
  at: Date;
}

/** The people compared in a review, side by side: only what an operator needs to decide. */
export interface ComparedPerson {
  familyName?: string;
  givenNames?: string[];
  birthDate?: string;
  postcode?: string;
  phone?: string;
}

export interface MatchReview {
  id: string;
  notificationId: string;
  candidateFamilyId: string;
  provisionalFamilyId: string;
  score: number;
  contributions: FieldContributionRecord[];
  status: MatchReviewStatus;
  createdAt: string;
  decidedAt?: string;
  decidedBy?: string;
  /** The provisional family's lead (the new notification's mother) and the candidate family's lead. */
  probe?: ComparedPerson;
  candidate?: ComparedPerson;
}

export type ReviewDecision = 'confirm' | 'reject';

/**
 * Family writes and reads inside one transaction (a processing batch's, an import's, a review decision's, an
 * A40 merge's). Every batch method is one statement.
 */
export interface FamilyTransaction {
  /** Inserts families; one whose lead NHS number another family holds is not inserted. Returns the ids created. */
  createFamilies(families: readonly NewFamily[]): Promise<Set<string>>;
  /** The live families led by these NHS numbers (merged families excluded). */
  familiesByLeadNhsNumber(nhsNumbers: readonly string[]): Promise<FamilyRecord[]>;
  /**
   * The candidates of a batch, one query: live families led by one of these NHS numbers, or sharing a blocking
   * key with a probe. `blockKeys` are a probe's keys as they are (a mother without an NHS number: any family), or
   * with `openKey` (a mother with one: only families no NHS number leads). A key shared by very many families
   * (more than the store's cap) is not used.
   */
  candidateFamilies(nhsNumbers: readonly string[], blockKeys: readonly string[]): Promise<FamilyRecord[]>;
  /** These families (merged ones too, with mergedInto). */
  familiesById(ids: readonly string[]): Promise<FamilyRecord[]>;
  /** A family by id (merged ones too, with mergedInto), locked for update. */
  lockFamily(id: string): Promise<FamilyRecord | undefined>;
  /** Adds children; one already in its family (same key) is updated with the newer record. */
  addChildren(children: readonly NewChild[]): Promise<void>;
  /** Links notifications to families (a notification already linked is moved, with its new method and score). */
  linkNotifications(links: readonly FamilyLinkInput[]): Promise<void>;
  /** The family each of these notifications is linked to. */
  familyOfNotifications(notificationIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Sets each family's newest address, centre, GP, language where given; the lead given is merged over the
   * stored one (its fields win), and the block keys given replace the family's. A lead NHS number is set only
   * where the family had none and no other family holds it.
   */
  refreshFamilies(refreshes: readonly FamilyRefresh[]): Promise<void>;
  recordSources(sources: readonly FamilySourceInput[]): Promise<void>;
  /**
   * Merges family `fromId` into `intoId`: its children, notification links (method `merge` unless given) and
   * sources move, its block keys are removed, `merged_into` is set, and its lead NHS number passes to the target
   * if the target has none. A child already in the target (same key) is kept once. No-op if `fromId` is
   * already merged or equals `intoId`.
   */
  mergeFamily(fromId: string, intoId: string, at: Date, linkMethod?: FamilyLinkMethod): Promise<void>;
  createReviews(reviews: readonly NewMatchReview[]): Promise<void>;
  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
  /**
   * A matching plan's children, links, sources, reviews and audit in one statement (processing's batch; the
   * families it creates are inserted first with createFamilies, its refreshes with refreshFamilies).
   */
  saveFamilyPlan(plan: FamilyPlanWrites): Promise<void>;
}

/** What saveFamilyPlan writes. */
export interface FamilyPlanWrites {
  children: readonly NewChild[];
  links: readonly FamilyLinkInput[];
  sources: readonly FamilySourceInput[];
  reviews: readonly NewMatchReview[];
  audit: readonly AuditEventInput[];
}

export interface ImportedFamily {
  family: NewFamily;
  children: readonly NewChild[];
  /** The row numbers (1-based) this family came from. */
  rows: readonly number[];
}

export type ReviewDecisionResult =
  { kind: 'decided'; review: MatchReview } | { kind: 'not-found' } | { kind: 'already-decided'; status: MatchReviewStatus };

/** Family records outside processing: the register import, the review queue, and transactions for others. */
export interface FamilyStore {
  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: FamilyTransaction) => Promise<T>): Promise<T>;
  /**
   * Imports a register in one transaction: a family already led by the same NHS number is updated (lead,
   * address, centre, block keys) and its children added or updated by key; the others are created with origin
   * `register-import`. Audited as one `families-imported` event by `by`.
   */
  importFamilies(
    families: readonly ImportedFamily[],
    importId: string,
    by: AuditActor,
    at: Date,
  ): Promise<{ imported: number; updated: number }>;
  listReviews(status: MatchReviewStatus, limit: number): Promise<MatchReview[]>;
  getReview(id: string): Promise<MatchReview | undefined>;
  /**
   * Decides a pending review, audited as `match-reviewed` by `by`: confirm merges the provisional family into the
   * candidate (the notification's link becomes `review-confirmed`); reject leaves them apart.
   */
  decideReview(id: string, decision: ReviewDecision, by: AuditActor, at: Date, reason?: string): Promise<ReviewDecisionResult>;
}

/** The form of a blocking key that finds only the families no NHS number leads. */
export const openKey = (key: string): string => `open:${key}`;
