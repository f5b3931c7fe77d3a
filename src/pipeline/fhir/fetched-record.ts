/**
 * A birth record Stork fetched from a feed's FHIR server (after a signal event, or found by the poller): the
 * baby's Patient and the resources about it that were fetched (RelatedPerson, the mother's Patient,
 * Observations), assembled as one `collection` Bundle (what is stored, channel `fhir-fetch`), then read through
 * the feed's declarative R4 mapping exactly as a birth message is: the baby is the Bundle's first entry, the
 * message time is when it was fetched. Pure: no I/O, never throws on input.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import type { BackfillAdmission } from '../hl7v2/map-outcome.js';
import type { FhirFeedConfig } from './fhir-feed.js';
import { fhirIssue, type FhirIssue } from './fhir-issue.js';
import type { FhirMapping } from './fhir-mapping.js';
import type { JsonObject } from './fhir-xml.js';
import { obj, objs, str } from './json-access.js';
import { mapFhirBirth, type FhirMapOutcome } from './map-fhir-r4.js';
import type { BundleEntry, MessageBundle } from './message-bundle.js';

/** The re-send key's control id of a fetched record: the baby's id and version (meta.versionId, else meta.lastUpdated). */
export function fetchedControlId(baby: JsonObject): string | undefined {
  const id = str(baby.id);
  if (id === undefined || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return undefined;
  const meta = obj(baby.meta);
  const version = str(meta?.versionId) ?? str(meta?.lastUpdated);
  return `Patient/${id}/_history/${version ?? 'unversioned'}`;
}

/** The one Bundle stored for a fetch: the baby first, then what was fetched about it, each with its server URL. */
export function assembleFetchedRecord(
  baby: JsonObject,
  related: readonly JsonObject[],
  o: { baseUrl: string; id: string; at: Date },
): JsonObject {
  const entry = (r: JsonObject): JsonObject => {
    const type = str(r.resourceType) ?? 'Resource';
    const id = str(r.id);
    return { ...(id !== undefined ? { fullUrl: `${o.baseUrl}/${type}/${id}` } : {}), resource: r };
  };
  const seen = new Set<string>();
  const unique = [baby, ...related].filter((r, i) => {
    const key = `${str(r.resourceType) ?? ''}/${str(r.id) ?? `#${i}`}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { resourceType: 'Bundle', id: o.id, type: 'collection', timestamp: o.at.toISOString(), entry: unique.map(entry) };
}

export interface FetchedAssessment {
  status: 'queued' | 'not-relevant' | 'quarantined';
  issues: FhirIssue[];
  reason?: string;
  notification?: BirthNotification;
  backfill?: BackfillAdmission;
  internalError?: unknown;
}

/** Reads an assembled record (assembleFetchedRecord) through the feed's mapping: a birth, not relevant, or invalid. */
export function assessFetchedRecord(
  bundle: JsonObject,
  ctx: { feed: FhirFeedConfig; mapping: FhirMapping; receivedAt: Date },
): FetchedAssessment {
  const entries: BundleEntry[] = objs(bundle.entry).flatMap((e, i) => {
    const r = obj(e.resource);
    if (!r) return [];
    const fullUrl = str(e.fullUrl);
    return [{ resource: r, expression: `Bundle.entry[${i}].resource`, ...(fullUrl !== undefined ? { fullUrl } : {}) }];
  });
  const baby = entries[0];
  if (baby?.resource.resourceType !== 'Patient') {
    const issue = fhirIssue('required', 'The fetched record has no Patient', 'Bundle.entry[0].resource');
    return { status: 'quarantined', issues: [issue], reason: issue.diagnostics };
  }
  const event = ctx.mapping.file.events[0];
  const message: MessageBundle = {
    bundle,
    // The fetched record has no MessageHeader: this one only tells the mapping which Patient is the baby.
    header: { resourceType: 'MessageHeader', focus: [{ reference: `Patient/${str(baby.resource.id) ?? ''}` }] },
    bundleId: str(bundle.id) ?? '',
    headerId: 'fetched',
    ...(str(bundle.timestamp) !== undefined ? { timestamp: str(bundle.timestamp) } : {}),
    event: event ? { system: event.system, code: event.code } : {},
    sourceEndpoint: ctx.feed.sourceEndpoint,
    entries,
  };
  let outcome: FhirMapOutcome;
  try {
    outcome = mapFhirBirth(message, ctx.mapping, {
      feedId: ctx.feed.id,
      receivedAt: ctx.receivedAt,
      ...(ctx.feed.backfill ? { backfill: ctx.feed.backfill } : {}),
    });
  } catch (err) {
    const issue = fhirIssue('exception', 'Internal error while mapping the fetched record; it is kept for an operator');
    return { status: 'quarantined', issues: [issue], reason: issue.diagnostics, internalError: err };
  }
  switch (outcome.kind) {
    case 'birth':
      return {
        status: 'queued',
        issues: outcome.issues,
        notification: outcome.notification,
        ...(outcome.backfill ? { backfill: outcome.backfill } : {}),
      };
    case 'not-relevant':
      return { status: 'not-relevant', issues: outcome.issues, reason: outcome.reason };
    case 'invalid': {
      const first = outcome.issues.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? outcome.issues[0];
      return { status: 'quarantined', issues: outcome.issues, reason: first?.diagnostics ?? 'invalid' };
    }
  }
}
