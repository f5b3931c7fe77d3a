import type { InboxItem, InboxStatus } from '../../../src/ports/notification-store.js';
import type { Address, PersonName } from '../../../src/domain/birth-notification.js';

/** A family as the pages show it: only what the disclosed record holds, in words. */
export interface FamilyView {
  id: string;
  status: InboxStatus;
  statusText: string;
  statusTag: string;
  babyName: string;
  babySex?: string;
  babyBorn?: string;
  babyNhsNumber?: string;
  motherName?: string;
  motherPhone?: string;
  language?: string;
  address?: string[];
  gp?: string;
  delivered: string;
  withdrawn?: string;
  takenOn?: string;
  /** When retention purged its content (issue 14): the page says it is no longer held. */
  purged?: string;
  /** The whole family's page (issue 12), while the notification is in effect. */
  familyId?: string;
}

const STATUS: Record<InboxStatus, [string, string]> = {
  new: ['New', 'govuk-tag--blue'],
  acknowledged: ['Taken on', 'govuk-tag--green'],
  withdrawn: ['Withdrawn', 'govuk-tag--red'],
};

const SEX: Record<string, string> = { male: 'Boy', female: 'Girl', other: 'Other', unknown: 'Not known' };

export function personName(n: PersonName | undefined): string | undefined {
  if (!n) return undefined;
  const text = [...(n.given ?? []), n.family ?? ''].join(' ').trim();
  return text === '' ? undefined : text;
}

export function addressLines(a: Address | undefined): string[] | undefined {
  if (!a) return undefined;
  const lines = [...a.lines, a.city, a.county, a.postcode].filter((l): l is string => typeof l === 'string' && l.trim() !== '');
  return lines.length > 0 ? lines : undefined;
}

/** "29 November 2026" for an ISO date or date-time, in London. */
export function longDate(iso: string | undefined): string | undefined {
  if (iso === undefined) return undefined;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T12:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });
}

/** "29 November 2026 at 10:04" in London. */
export function longDateTime(iso: string | undefined): string | undefined {
  if (iso === undefined) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' });
  return `${longDate(iso) ?? iso} at ${time}`;
}

/** "943 476 5919": an NHS number as people read it. */
export function spacedNhsNumber(n: string | undefined): string | undefined {
  return n && /^\d{10}$/.test(n) ? `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}` : n;
}

/** The family of an inbox item; a withdrawn item shows no content, whatever the store returned. */
export function familyView(item: InboxItem): FamilyView {
  const [statusText, statusTag] = STATUS[item.status];
  const base = {
    id: item.notificationId,
    status: item.status,
    statusText,
    statusTag,
    delivered: longDateTime(item.deliveredAt) ?? item.deliveredAt,
    ...(item.withdrawnAt !== undefined ? { withdrawn: longDateTime(item.withdrawnAt) } : {}),
    ...(item.acknowledgedAt !== undefined ? { takenOn: longDateTime(item.acknowledgedAt) } : {}),
  };
  if (item.purgedAt !== undefined) return { ...base, purged: longDate(item.purgedAt) ?? item.purgedAt, babyName: 'Details no longer held' };
  const r = item.status === 'withdrawn' ? undefined : item.record;
  if (!r) return { ...base, babyName: 'Withdrawn notification' };
  const gp = r.gpPractice ? [r.gpPractice.name, r.gpPractice.odsCode].filter(Boolean).join(', ') : undefined;
  const view: FamilyView = { ...base, babyName: personName(r.baby.name) ?? 'Baby (no name given)' };
  if (item.familyId !== undefined) view.familyId = item.familyId;
  const set = <K extends keyof FamilyView>(k: K, v: FamilyView[K] | undefined): void => {
    if (v !== undefined && v !== '') view[k] = v;
  };
  set('babySex', r.baby.sex !== undefined ? SEX[r.baby.sex] : undefined);
  set('babyBorn', longDate(r.baby.birthDate));
  set('babyNhsNumber', spacedNhsNumber(r.baby.nhsNumber));
  set('motherName', personName(r.mother?.name));
  set('motherPhone', r.mother?.phone);
  set('language', r.mother?.preferredLanguage);
  set('address', addressLines(r.familyAddress));
  set('gp', gp);
  return view;
}
