/**
 * Which family each new birth joins (issue 12 item 2), as a pure function over a batch: the mother's NHS number
 * first, then Fellegi–Sunter record linkage (src/matching) against the families sharing a blocking key, then a
 * new family. Births are decided one after the other, so twins in one batch join the family the first made.
 *
 * NHS number status: a mother's number that is verified (status 01) or whose status the source does not state
 * (most feeds do not carry it) is decisive: the family led by that number is hers. Any other status (02–08:
 * present but not traced, trace required, …) is strong evidence only: it joins that family unless the
 * probabilistic score on the other fields says non-match, in which case the pair goes to review, held apart.
 * A mother with an NHS number is never matched to a family whose lead has a different NHS number; she may be
 * matched probabilistically to a family with no lead NHS number (a register import may lack it).
 *
 * Nothing in the review band reaches a centre as a match: the birth gets a provisional family of its own, and a
 * pending review against the best candidate; an operator's confirmation merges the two.
 */
import { familyAddress, type BirthNotification } from '../domain/birth-notification.js';
import type { AuditEventInput } from '../ports/audit.js';
import type {
  FamilyLead,
  FamilyLinkInput,
  FamilyLinkMethod,
  FamilyRecord,
  FamilyRefresh,
  FamilySourceInput,
  FieldContributionRecord,
  NewChild,
  NewFamily,
  NewMatchReview,
} from '../ports/family-store.js';
import { blockingKeys, rankCandidates, scorePair, type MatchModel, type MatchScore, type PersonForMatching } from '../matching/index.js';

export const FAMILY_ACTOR = 'system:worker';

/** The matcher with its model bound (src/matching: scorePair, blockingKeys, rankCandidates). */
export interface FamilyMatcher {
  blockingKeys(p: PersonForMatching): string[];
  scorePair(probe: PersonForMatching, candidate: PersonForMatching): MatchScore;
  rankCandidates<T extends { person: PersonForMatching }>(
    probe: PersonForMatching,
    candidates: readonly T[],
  ): { candidate: T; score: MatchScore }[];
}

/** The matcher with `model` bound, as family matching calls it. */
export function bindMatcher(model: MatchModel): FamilyMatcher {
  return {
    blockingKeys: (p) => blockingKeys(model, p),
    scorePair: (probe, candidate) => scorePair(model, probe, candidate),
    rankCandidates: (probe, candidates) => rankCandidates(model, probe, candidates),
  };
}

/** A birth whose notification was just created (or newly learned its mother), to place in a family. */
export interface BirthToPlace {
  notificationId: string;
  messageId: string;
  record: BirthNotification;
  /** The centre its notification routes to (a catchment's centre), if any. */
  centre?: string;
  at: Date;
}

export interface FamilyPlan {
  newFamilies: NewFamily[];
  children: NewChild[];
  links: FamilyLinkInput[];
  refreshes: FamilyRefresh[];
  sources: FamilySourceInput[];
  reviews: NewMatchReview[];
  audit: AuditEventInput[];
  /** Per notification: the family it was placed in and how (for counting and tests). */
  placed: { notificationId: string; familyId: string; method: FamilyLinkMethod | 'review' }[];
}

/** A verified NHS number (01), or one whose status the source does not give, decides the family. */
export function isDecisiveStatus(status: string | undefined): boolean {
  return status === undefined || status === '01';
}

/** The lead of a family as a mother's record gives it. */
export function leadOf(record: BirthNotification): FamilyLead {
  const m = record.mother;
  if (m === undefined) return {};
  return {
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.birthDate !== undefined ? { birthDate: m.birthDate } : {}),
    ...(m.nhsNumber !== undefined ? { nhsNumber: m.nhsNumber } : {}),
    ...(m.nhsNumberStatus !== undefined ? { nhsNumberStatus: m.nhsNumberStatus } : {}),
    ...(m.phone !== undefined ? { phone: m.phone } : {}),
    ...(m.preferredLanguage !== undefined ? { preferredLanguage: m.preferredLanguage } : {}),
  };
}

/** The person matching compares: the lead's names, date of birth and phone, and the family's postcode. */
export function personOf(lead: FamilyLead, postcode: string | undefined): PersonForMatching {
  const p: PersonForMatching = {};
  if (lead.name?.family !== undefined) p.familyName = lead.name.family;
  if (lead.name?.given !== undefined && lead.name.given.length > 0) p.givenNames = lead.name.given;
  if (lead.birthDate !== undefined) p.birthDate = lead.birthDate;
  if (postcode !== undefined) p.postcode = postcode;
  if (lead.phone !== undefined) p.phone = lead.phone;
  return p;
}

/** A child's key: its NHS number, else its notification. Twins have distinct keys, so are never merged. */
export function childKeyOf(record: BirthNotification, notificationId: string): string {
  return record.baby.nhsNumber !== undefined ? `nhs:${record.baby.nhsNumber}` : `notification:${notificationId}`;
}

/** What a family keeps of a child: enough for its centre to know the siblings, nothing clinical. */
export function childRecordOf(record: BirthNotification): Record<string, unknown> {
  const b = record.baby;
  return {
    ...(b.nhsNumber !== undefined ? { nhsNumber: b.nhsNumber } : {}),
    ...(b.name !== undefined ? { name: b.name } : {}),
    ...(b.sex !== undefined ? { sex: b.sex } : {}),
    birthDate: b.birthDate,
    ...(b.multipleBirth !== undefined ? { multipleBirth: b.multipleBirth } : {}),
    ...(b.birthOrder !== undefined ? { birthOrder: b.birthOrder } : {}),
  };
}

const contributionsOf = (s: MatchScore): FieldContributionRecord[] =>
  s.contributions.map((c) => ({ field: c.field, level: c.level, weight: round(c.weight) }));
const round = (x: number): number => Math.round(x * 1000) / 1000;

const probes = new WeakMap<BirthToPlace, PersonForMatching>();

/**
 * The person a birth's mother is matched as, made once per birth: the matcher prepares (normalises, encodes) each
 * person object once, so the candidate query's keys and the scoring share that work.
 */
export function probeOf(b: BirthToPlace): PersonForMatching {
  let p = probes.get(b);
  if (p === undefined) {
    p = personOf(leadOf(b.record), familyAddress(b.record)?.postcode);
    probes.set(b, p);
  }
  return p;
}

/** Whether a mother has anything to match on beyond an NHS number. */
function hasMatchableFields(p: PersonForMatching): boolean {
  return p.familyName !== undefined || p.birthDate !== undefined;
}

interface Working {
  family: FamilyRecord;
  person: PersonForMatching;
  keys: Set<string>;
}

/**
 * Places each birth in a family. `candidates` are the live families the store found for the batch (by lead NHS
 * number or shared blocking key); `newId` makes ids for new families and reviews.
 */
export function planFamilies(
  births: readonly BirthToPlace[],
  candidates: readonly FamilyRecord[],
  matcher: FamilyMatcher,
  newId: () => string,
): FamilyPlan {
  const plan: FamilyPlan = { newFamilies: [], children: [], links: [], refreshes: [], sources: [], reviews: [], audit: [], placed: [] };
  const pool = new Map<string, Working>();
  const add = (family: FamilyRecord, same?: PersonForMatching): void => {
    const person = same ?? personOf(family.lead, family.address?.postcode);
    pool.set(family.id, { family, person, keys: new Set(matcher.blockingKeys(person)) });
  };
  for (const f of candidates) if (f.mergedInto === undefined) add(f);
  const refreshed = new Map<string, FamilyRefresh>();

  for (const b of births) {
    const lead = leadOf(b.record);
    const address = familyAddress(b.record);
    const probe = probeOf(b);
    const nhs = lead.nhsNumber;
    const subject = b.record.baby.nhsNumber !== undefined ? { subjectNhsNumber: b.record.baby.nhsNumber } : {};
    const audit = (familyId: string, method: FamilyLinkMethod, score?: MatchScore): void => {
      plan.audit.push({
        at: b.at,
        actor: FAMILY_ACTOR,
        action: 'family-linked',
        messageId: b.messageId,
        notificationId: b.notificationId,
        ...subject,
        outcome: method,
        details: {
          familyId,
          method,
          ...(score !== undefined
            ? { score: round(score.weight), probability: round(score.probability), contributions: contributionsOf(score) }
            : {}),
        },
      });
    };
    const link = (familyId: string, method: FamilyLinkMethod, score?: MatchScore): void => {
      plan.links.push({
        notificationId: b.notificationId,
        familyId,
        method,
        ...(score !== undefined ? { score: round(score.weight), contributions: contributionsOf(score) } : {}),
        at: b.at,
      });
      plan.children.push({
        familyId,
        childKey: childKeyOf(b.record, b.notificationId),
        notificationId: b.notificationId,
        record: childRecordOf(b.record),
        at: b.at,
      });
      audit(familyId, method, score);
      plan.placed.push({ notificationId: b.notificationId, familyId, method });
    };
    const newFamily = (withNhs: boolean): FamilyRecord => {
      const id = newId();
      const leadHere: FamilyLead = withNhs || nhs === undefined ? lead : withoutNhs(lead);
      const family: FamilyRecord = {
        id,
        lead: leadHere,
        ...(withNhs && nhs !== undefined ? { leadNhsNumber: nhs } : {}),
        ...(address !== undefined ? { address } : {}),
        ...(b.record.gpPractice !== undefined ? { gp: b.record.gpPractice } : {}),
        ...(lead.preferredLanguage !== undefined ? { preferredLanguage: lead.preferredLanguage } : {}),
        ...(b.centre !== undefined ? { centre: b.centre } : {}),
        origin: 'notification',
      };
      // A new family's lead is the mother: matched as the same person (its postcode is hers).
      add(family, probe);
      plan.newFamilies.push({
        id,
        lead: leadHere,
        ...(family.address !== undefined ? { address: family.address } : {}),
        ...(family.gp !== undefined ? { gp: family.gp } : {}),
        ...(family.preferredLanguage !== undefined ? { preferredLanguage: family.preferredLanguage } : {}),
        ...(family.centre !== undefined ? { centre: family.centre } : {}),
        origin: 'notification',
        blockKeys: [...(pool.get(id)?.keys ?? [])],
        at: b.at,
      });
      return family;
    };
    /** The newest record sets the family's address, centre, GP and language; the lead gains what it lacked. */
    const refresh = (w: Working): void => {
      const f = w.family;
      const mergedLead: FamilyLead = { ...f.lead, ...lead };
      if (f.leadNhsNumber !== undefined && mergedLead.nhsNumber !== f.leadNhsNumber) mergedLead.nhsNumber = f.leadNhsNumber;
      const next: FamilyRecord = {
        ...f,
        lead: mergedLead,
        ...(f.leadNhsNumber === undefined && nhs !== undefined ? { leadNhsNumber: nhs } : {}),
        ...(address !== undefined ? { address } : {}),
        ...(b.record.gpPractice !== undefined ? { gp: b.record.gpPractice } : {}),
        ...(lead.preferredLanguage !== undefined ? { preferredLanguage: lead.preferredLanguage } : {}),
        ...(b.centre !== undefined ? { centre: b.centre } : {}),
      };
      add(next);
      const keys = [...(pool.get(f.id)?.keys ?? [])];
      refreshed.set(f.id, {
        familyId: f.id,
        lead: mergedLead,
        ...(next.address !== undefined ? { address: next.address } : {}),
        ...(next.gp !== undefined ? { gp: next.gp } : {}),
        ...(next.preferredLanguage !== undefined ? { preferredLanguage: next.preferredLanguage } : {}),
        ...(next.centre !== undefined ? { centre: next.centre } : {}),
        blockKeys: keys,
        at: b.at,
      });
    };
    const review = (candidate: Working, score: MatchScore, provisionalWithNhs: boolean): void => {
      const provisional = newFamily(provisionalWithNhs);
      link(provisional.id, 'new-family');
      const id = newId();
      plan.reviews.push({
        id,
        notificationId: b.notificationId,
        candidateFamilyId: candidate.family.id,
        provisionalFamilyId: provisional.id,
        score: round(score.weight),
        contributions: contributionsOf(score),
        at: b.at,
      });
      plan.audit.push({
        at: b.at,
        actor: FAMILY_ACTOR,
        action: 'match-review-created',
        messageId: b.messageId,
        notificationId: b.notificationId,
        ...subject,
        outcome: 'pending',
        details: {
          reviewId: id,
          candidateFamilyId: candidate.family.id,
          provisionalFamilyId: provisional.id,
          score: round(score.weight),
          probability: round(score.probability),
          contributions: contributionsOf(score),
        },
      });
      plan.placed[plan.placed.length - 1] = { notificationId: b.notificationId, familyId: provisional.id, method: 'review' };
    };

    // (a) The mother's NHS number.
    const byNhs = nhs === undefined ? undefined : [...pool.values()].find((w) => w.family.leadNhsNumber === nhs);
    if (byNhs !== undefined) {
      if (isDecisiveStatus(lead.nhsNumberStatus) || !hasMatchableFields(probe)) {
        refresh(byNhs);
        link(byNhs.family.id, 'nhs-number');
        continue;
      }
      const score = matcher.scorePair(probe, byNhs.person);
      if (score.band !== 'non-match') {
        refresh(byNhs);
        link(byNhs.family.id, 'nhs-number', score);
      } else review(byNhs, score, false);
      continue;
    }
    // (b) Fellegi–Sunter against the families sharing a blocking key, never one led by another NHS number.
    const best = hasMatchableFields(probe) ? bestCandidate(probe, nhs, pool, matcher) : undefined;
    if (best?.score.band === 'match') {
      refresh(best.candidate);
      link(best.candidate.family.id, 'probabilistic', best.score);
    } else if (best?.score.band === 'review') {
      review(best.candidate, best.score, true);
    } else {
      // (c) A family of its own.
      link(newFamily(true).id, 'new-family');
    }
  }
  plan.refreshes.push(...refreshed.values());
  return plan;
}

function withoutNhs(lead: FamilyLead): FamilyLead {
  const copy = { ...lead };
  delete copy.nhsNumber;
  delete copy.nhsNumberStatus;
  return copy;
}

function bestCandidate(
  probe: PersonForMatching,
  nhs: string | undefined,
  pool: ReadonlyMap<string, Working>,
  matcher: FamilyMatcher,
): { candidate: Working; score: MatchScore } | undefined {
  const keys = matcher.blockingKeys(probe);
  const eligible = [...pool.values()].filter(
    (w) => (nhs === undefined || w.family.leadNhsNumber === undefined) && keys.some((k) => w.keys.has(k)),
  );
  if (eligible.length === 0) return undefined;
  return matcher.rankCandidates(probe, eligible)[0];
}

/**
 * What a later message about a baby already placed changes in its family: the newest address and centre, and the
 * lead's fields it gives (an NHS number only where the family has none; the store also checks no other family
 * holds it). Only families whose address or lead NHS number would change are refreshed.
 */
export function refreshFromLinked(
  linked: readonly BirthToPlace[],
  familyOf: ReadonlyMap<string, string>,
  families: ReadonlyMap<string, FamilyRecord>,
  matcher: FamilyMatcher,
): FamilyRefresh[] {
  const out = new Map<string, FamilyRefresh>();
  const current = new Map(families);
  for (const b of linked) {
    const id = familyOf.get(b.notificationId);
    const f = id === undefined ? undefined : current.get(id);
    if (f === undefined || f.mergedInto !== undefined) continue;
    const lead = leadOf(b.record);
    const address = familyAddress(b.record);
    const newNhs = f.leadNhsNumber === undefined && lead.nhsNumber !== undefined;
    const moved = address !== undefined && JSON.stringify(address) !== JSON.stringify(f.address);
    if (!newNhs && !moved) continue;
    const mergedLead: FamilyLead = { ...f.lead, ...lead };
    if (f.leadNhsNumber !== undefined) mergedLead.nhsNumber = f.leadNhsNumber;
    const next: FamilyRecord = {
      ...f,
      lead: mergedLead,
      ...(newNhs && lead.nhsNumber !== undefined ? { leadNhsNumber: lead.nhsNumber } : {}),
      ...(address !== undefined ? { address } : {}),
      ...(b.centre !== undefined ? { centre: b.centre } : {}),
    };
    current.set(f.id, next);
    out.set(f.id, {
      familyId: f.id,
      lead: mergedLead,
      ...(next.address !== undefined ? { address: next.address } : {}),
      ...(next.centre !== undefined ? { centre: next.centre } : {}),
      blockKeys: matcher.blockingKeys(personOf(mergedLead, next.address?.postcode)),
      at: b.at,
    });
  }
  return [...out.values()];
}
