/**
 * Which local authority's trigger agreement applies to a family: the local authority of the family's centre, else
 * (a family whose births went to safeguarding review or an unallocated queue has no centre) the one its address's
 * postcode routes to. Pure.
 */
import type { Address } from '../../domain/birth-notification.js';
import type { TriggerAgreement } from '../../domain/trigger.js';
import type { Catchments } from '../catchments.js';
import { routeNotification } from '../route.js';

export function triggerAgreementForFamily(
  family: { centre?: string; address?: Address },
  catchments: Catchments,
  byLocalAuthority: ReadonlyMap<string, TriggerAgreement>,
): TriggerAgreement | undefined {
  const fromCentre = family.centre === undefined ? undefined : catchments.centres.get(family.centre)?.localAuthorityId;
  const la = fromCentre ?? routeNotification(family.address?.postcode, catchments).localAuthorityId;
  return la === undefined ? undefined : byLocalAuthority.get(la);
}
