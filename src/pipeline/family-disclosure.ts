/**
 * What a centre may see of a whole family (issue 12 item 6), as a pure function. The family record in the store
 * holds more than any one centre may see; this builds the centre's view only from what the consent rules already
 * disclosed to that centre, plus the older siblings those rules would let it see:
 * - the mother, the family address and the GP come from the disclosed record of the centre's newest live
 *   notification about the family (never from the family record itself), so the dataset of the rule that
 *   decided is the ceiling;
 * - the new babies are the centre's own live inbox items about the family (a withdrawn one shows nothing);
 * - a sibling is another child of the family that Stork knows, born no later than the newest baby the centre was
 *   sent (a centre the family moved away from does not learn of a baby born since): from a notification whose rule
 *   permitted sharing and that is still in effect (never one withheld, sent for review, withdrawn or about a baby
 *   who died), or from the centre's own register; it shows only the baby fields the centre's dataset allows;
 * - the named worker shows only to the centre that assigned them.
 */
import type { Address, Baby, GpPractice, Mother } from '../domain/birth-notification.js';
import { DATASETS, type DatasetName, type DisclosedRecord } from './consent/datasets.js';

/** One of the centre's own inbox items about the family, as the store read it. */
export interface CentreItem {
  notificationId: string;
  status: 'new' | 'acknowledged' | 'withdrawn';
  deliveredAt: string;
  disclosed?: DisclosedRecord;
}

/** Another child of the family, as the store holds it, with what decided its own notification (if any). */
export interface FamilyChild {
  childKey: string;
  notificationId?: string;
  record: Partial<Pick<Baby, 'name' | 'sex' | 'birthDate' | 'nhsNumber' | 'deceased'>>;
  /** Its notification's state: sharing permitted and still in effect, or anything else. */
  notification?: { effect: 'permit' | 'deny' | 'review'; status: 'routed' | 'delivered' | 'withheld' | 'withdrawn' };
}

export interface FamilyFacts {
  familyId: string;
  /** The inbox id of the centre the family uses. */
  centre?: string;
  namedWorker?: { name: string; centre: string; at: string };
  items: readonly CentreItem[];
  children: readonly FamilyChild[];
}

export interface CentreFamilyBaby {
  notificationId: string;
  status: CentreItem['status'];
  baby?: Partial<Baby>;
}

export type SiblingFields = Partial<Pick<Baby, 'name' | 'sex' | 'birthDate' | 'nhsNumber'>>;

/** The family as one centre may see it. */
export interface CentreFamily {
  familyId: string;
  /** The dataset that bounds everything shown (the rule's, from the centre's newest live notification). */
  dataset?: DatasetName;
  mother?: Partial<Mother>;
  familyAddress?: Address;
  gpPractice?: GpPractice;
  babies: CentreFamilyBaby[];
  siblings: SiblingFields[];
  /** The notifications whose data this view shows (for the audit of the read). */
  shownNotificationIds: string[];
  namedWorker?: { name: string; assignedAt: string };
}

const SIBLING_FIELDS = ['name', 'sex', 'birthDate', 'nhsNumber'] as const;

/**
 * The centre's view of a family, or undefined when the centre has no notification about it still in effect in its
 * inbox (a family that moved away, or one never sent to it, is not the centre's to see: the caller answers as for
 * an id that does not exist).
 */
export function centreFamilyView(inboxId: string, facts: FamilyFacts): CentreFamily | undefined {
  const live = facts.items
    .filter((i) => i.status !== 'withdrawn' && i.disclosed !== undefined)
    .sort((a, b) => b.deliveredAt.localeCompare(a.deliveredAt));
  const newest = live[0]?.disclosed;
  if (newest === undefined) return undefined;
  const view: CentreFamily = {
    familyId: facts.familyId,
    babies: facts.items.map((i) => ({
      notificationId: i.notificationId,
      status: i.status,
      ...(i.status !== 'withdrawn' && i.disclosed !== undefined ? { baby: i.disclosed.baby } : {}),
    })),
    siblings: [],
    shownNotificationIds: live.map((i) => i.notificationId),
  };
  if (facts.namedWorker?.centre === inboxId) {
    view.namedWorker = { name: facts.namedWorker.name, assignedAt: facts.namedWorker.at };
  }
  view.dataset = newest.dataset;
  if (newest.mother !== undefined) view.mother = newest.mother;
  if (newest.familyAddress !== undefined) view.familyAddress = newest.familyAddress;
  if (newest.gpPractice !== undefined) view.gpPractice = newest.gpPractice;

  const allowed = new Set<string>(DATASETS[newest.dataset]);
  const ownItems = new Set(facts.items.map((i) => i.notificationId));
  const latestBirth = live.reduce((d, i) => {
    const b = i.disclosed?.baby.birthDate;
    return b !== undefined && b > d ? b : d;
  }, '');
  for (const child of facts.children) {
    if (child.notificationId !== undefined && ownItems.has(child.notificationId)) continue;
    if (child.record.deceased === true) continue;
    const born = child.record.birthDate;
    if (born === undefined || latestBirth === '' || born > latestBirth) continue;
    const shareable =
      child.notificationId === undefined
        ? facts.centre === inboxId
        : child.notification?.effect === 'permit' && (child.notification.status === 'routed' || child.notification.status === 'delivered');
    if (!shareable) continue;
    const sibling: SiblingFields = {};
    for (const f of SIBLING_FIELDS) {
      const v = child.record[f];
      if (v !== undefined && allowed.has(`baby.${f}`)) Object.assign(sibling, { [f]: v });
    }
    if (Object.keys(sibling).length === 0) continue;
    view.siblings.push(sibling);
    if (child.notificationId !== undefined) view.shownNotificationIds.push(child.notificationId);
  }
  view.siblings.sort((a, b) => (b.birthDate ?? '').localeCompare(a.birthDate ?? ''));
  return view;
}
