import { familyAddress, type BirthNotification } from '../domain/birth-notification.js';
import type { Catchments } from './catchments.js';
import type { ConsentRecord } from '../domain/consent.js';
import { consentContext } from './consent/consent-context.js';
import { decide, minimise, type Decision, type DisclosedRecord } from './consent/decide.js';
import { agreementFor, type AgreementChoice } from './consent/agreements.js';
import { routeNotification, type Route } from './route.js';
import { birthKey, demographicKey } from './same-birth.js';
import { boundedKey } from '../domain/bounded-key.js';

/** What happens to one birth: the rule's decision, the catchment route, and where (and what) it is delivered. */
export interface DeliveryPlan {
  subjectKey: string;
  /** The key another route shares for this baby (same-birth.ts), when the record allows one. */
  birthKey?: string;
  /** The second-level key (mother's details, baby's date, minute of birth and sex; same-birth.ts), when known. */
  demographicKey?: string;
  decision: Decision;
  route: Route;
  /** The inbox it goes to; undefined when the decision withholds it. */
  inboxId?: string;
  disclosed?: DisclosedRecord;
}

/**
 * The key that makes a birth one notification whatever feed or message brings it: the baby's NHS
 * number, else the feed's local identifier, else the message itself (no de-duplication possible). A local key over
 * 512 bytes is its SHA-256 (boundedKey), as identityKeys makes it.
 */
export function subjectKey(n: BirthNotification, messageId: string): string {
  if (n.baby.nhsNumber) return `nhs:${n.baby.nhsNumber}`;
  const local = n.baby.localIdentifiers[0];
  if (local) return boundedKey(`local:${n.source.feedId}:${local.assigner ?? ''}:${local.value}`);
  return `message:${messageId}`;
}

/** The inbox id for a route: a centre's id, or an unallocated inbox. */
export function routeInbox(route: Route): string {
  return route.kind === 'centre' ? route.centreId : route.inboxId;
}

/** The consent register's records about a birth's family, and the time the decision is made (their periods). */
export interface ConsentInput {
  records: readonly ConsentRecord[];
  at: Date;
}

/**
 * Route, then decide under the receiving local authority's agreement (issue 13), with the consent context the
 * register gives for that route: pure, so the same birth and records always get the same plan. A denial withholds
 * it; a review sends the reduced dataset to the review inbox instead of a centre; a permit goes to the covering
 * centre.
 */
export function planDelivery(
  n: BirthNotification,
  messageId: string,
  agreements: AgreementChoice,
  catchments: Catchments,
  consent?: ConsentInput,
): DeliveryPlan {
  const route = routeNotification(familyAddress(n)?.postcode, catchments);
  const decision = decide(
    n,
    agreementFor(route, agreements),
    consent === undefined ? {} : consentContext(consent.records, n, route, consent.at),
  );
  const key = birthKey(n);
  const demo = demographicKey(n);
  const plan: DeliveryPlan = {
    subjectKey: subjectKey(n, messageId),
    ...(key !== undefined ? { birthKey: key } : {}),
    ...(demo !== undefined ? { demographicKey: demo } : {}),
    decision,
    route,
  };
  if (decision.effect === 'deny' || decision.dataset === undefined) return plan;
  plan.inboxId = decision.effect === 'review' ? (decision.inbox ?? 'safeguarding-review') : routeInbox(route);
  plan.disclosed = minimise(n, decision.dataset);
  return plan;
}
