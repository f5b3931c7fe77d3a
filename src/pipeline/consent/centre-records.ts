/**
 * Which consent records a children's centre sees on a family's pages (issue 13), and which it may withdraw. Pure.
 * - A record is about the family when it names one of the babies the centre was sent, or names no baby and one of
 *   their mothers (a record about another baby of the same mother, sent elsewhere, is not this centre's to see);
 * - it is for the centre when its recipient is `any`, the centre itself, or the centre's local authority;
 * - withdrawn records stay in the list (marked); the newest comes first.
 * A centre may withdraw what a centre records: a parent's call (`parent-by-phone`) with itself as the recipient.
 */
import type { ConsentRecord } from '../../domain/consent.js';

export interface FamilyNhsNumbers {
  motherNhsNumbers: readonly string[];
  babyNhsNumbers: readonly string[];
}

/** The recipients a centre's records name: `any`, `centre:<inbox id>`, `local-authority:<id>`. */
export function centreRecipients(inboxId: string, localAuthorityIds: readonly string[]): Set<string> {
  return new Set(['any', `centre:${inboxId}`, ...localAuthorityIds.map((id) => `local-authority:${id}`)]);
}

export function isAboutFamily(r: ConsentRecord, family: FamilyNhsNumbers): boolean {
  if (r.babyNhsNumber !== undefined) return family.babyNhsNumbers.includes(r.babyNhsNumber);
  return r.motherNhsNumber !== undefined && family.motherNhsNumbers.includes(r.motherNhsNumber);
}

/** Newest first: by when recorded, then id (the order the register's rules call "newer"). */
const newestFirst = (a: ConsentRecord, b: ConsentRecord): number => b.recordedAt.localeCompare(a.recordedAt) || b.id.localeCompare(a.id);

export function recordsForCentre(
  records: readonly ConsentRecord[],
  family: FamilyNhsNumbers,
  recipients: ReadonlySet<string>,
): ConsentRecord[] {
  return records.filter((r) => isAboutFamily(r, family) && recipients.has(r.recipient)).sort(newestFirst);
}

/** Whether this centre recorded the record (a parent's call, to itself): the records it may withdraw. */
export function centreRecorded(r: ConsentRecord, inboxId: string): boolean {
  return r.source === 'parent-by-phone' && r.recipient === `centre:${inboxId}`;
}

/** Every record, newest first (the IG lead's history). */
export function newestFirstRecords(records: readonly ConsentRecord[]): ConsentRecord[] {
  return [...records].sort(newestFirst);
}
