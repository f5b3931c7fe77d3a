/**
 * Routing: the family's postcode picks the children's centre whose catchment covers it. The most
 * specific claim wins (full postcode, then sector, then district); a postcode no centre covers goes to
 * its local authority's unallocated inbox, and anything else to the hub-wide `unallocated` inbox, so a
 * family is never silently dropped.
 */
import { parsePostcode, sectorOf } from '../domain/postcode.js';
import type { Catchments } from './catchments.js';

/** Where a notification goes, and why; carries ids only, never the postcode itself. */
export type Route =
  | {
      readonly kind: 'centre';
      readonly centreId: string;
      readonly localAuthorityId: string;
      readonly matchedBy: 'postcode' | 'sector' | 'district';
    }
  | {
      readonly kind: 'unallocated';
      /** `<la>-unallocated`, or `unallocated` when no local authority covers the postcode. */
      readonly inboxId: string;
      readonly localAuthorityId?: string;
      readonly reason: 'no-postcode' | 'no-centre-covers-postcode' | 'outside-all-local-authorities';
    };

/** The hub-wide inbox for families no local authority covers (or without a usable postcode). */
export const HUB_UNALLOCATED_INBOX = 'unallocated';

/** The inbox id of a local authority's inbox for families in its area that no centre covers. */
export function unallocatedInbox(localAuthorityId: string): string {
  return `${localAuthorityId}-unallocated`;
}

/**
 * Routes one notification by the family's postcode (see `familyAddress`). Pure and allocation-light:
 * at most three Map lookups against the index built by `loadCatchments`.
 */
export function routeNotification(postcode: string | undefined, catchments: Catchments): Route {
  // The same parse as the mapper's normalisation (src/domain/postcode.ts), so the keys match the catchments'.
  const parts = postcode === undefined ? undefined : parsePostcode(postcode);
  if (parts === undefined) return { kind: 'unallocated', inboxId: HUB_UNALLOCATED_INBOX, reason: 'no-postcode' };

  const byPostcode = catchments.byPostcode.get(parts.postcode);
  if (byPostcode !== undefined) return { kind: 'centre', ...byPostcode, matchedBy: 'postcode' };
  const bySector = catchments.bySector.get(sectorOf(parts));
  if (bySector !== undefined) return { kind: 'centre', ...bySector, matchedBy: 'sector' };
  const byDistrict = catchments.byDistrict.get(parts.outward);
  if (byDistrict !== undefined) return { kind: 'centre', ...byDistrict, matchedBy: 'district' };

  const localAuthorityId = catchments.localAuthorityByDistrict.get(parts.outward);
  if (localAuthorityId === undefined) {
    return { kind: 'unallocated', inboxId: HUB_UNALLOCATED_INBOX, reason: 'outside-all-local-authorities' };
  }
  return {
    kind: 'unallocated',
    inboxId: unallocatedInbox(localAuthorityId),
    localAuthorityId,
    reason: 'no-centre-covers-postcode',
  };
}
