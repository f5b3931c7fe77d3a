/**
 * Reads the envelope of a FHIR R4 message: a Bundle of type `message` whose first entry is a MessageHeader,
 * with the ids a re-send is recognised by and the sender's source endpoint. Pure; every problem is an issue
 * with the FHIRPath of the element at fault.
 */
import { fhirIssue, type FhirIssue } from './fhir-issue.js';
import type { JsonObject } from './fhir-xml.js';
import { obj, objs, str } from './json-access.js';

export interface BundleEntry {
  resource: JsonObject;
  fullUrl?: string;
  /** `Bundle.entry[i].resource`, the FHIRPath of this resource. */
  expression: string;
}

export interface MessageBundle {
  bundle: JsonObject;
  header: JsonObject;
  bundleId: string;
  headerId: string;
  /** Bundle.timestamp, when given. */
  timestamp?: string;
  event: { system?: string; code?: string };
  /** MessageHeader.source.endpoint: how the message names its sender. */
  sourceEndpoint: string;
  entries: BundleEntry[];
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export type ReadMessage = { ok: true; message: MessageBundle } | { ok: false; issues: FhirIssue[]; partial: Partial<MessageBundle> };

export function readMessageBundle(resource: JsonObject): ReadMessage {
  const partial: Partial<MessageBundle> = {};
  const bad = (issue: FhirIssue): ReadMessage => ({ ok: false, issues: [issue], partial });
  if (resource.resourceType !== 'Bundle')
    return bad(
      fhirIssue(
        'not-supported',
        `$process-message takes a Bundle, not ${str(resource.resourceType) ?? 'an unknown resource'}`,
        'resourceType',
      ),
    );
  if (resource.type !== 'message') return bad(fhirIssue('invalid', 'Bundle.type must be message', 'Bundle.type'));
  const entries = objs(resource.entry);
  const first = obj(entries[0]?.resource);
  if (first?.resourceType !== 'MessageHeader')
    return bad(fhirIssue('structure', 'The first entry of a message Bundle must be a MessageHeader', 'Bundle.entry[0].resource'));
  const bundleId = str(resource.id);
  // MessageHeader.id; without one (as in the UK Core framework examples), the uuid of its entry's fullUrl.
  const headerUrl = str(entries[0]?.fullUrl);
  const headerId = str(first.id) ?? (headerUrl !== undefined ? /^urn:uuid:([0-9a-fA-F-]{36})$/.exec(headerUrl)?.[1] : undefined);
  const endpoint = str(obj(first.source)?.endpoint);
  if (endpoint !== undefined) partial.sourceEndpoint = endpoint;
  const issues: FhirIssue[] = [];
  if (bundleId === undefined) issues.push(fhirIssue('required', 'Bundle.id is required: a re-send is recognised by it', 'Bundle.id'));
  else if (!ID.test(bundleId)) issues.push(fhirIssue('value', 'Bundle.id is not a valid FHIR id', 'Bundle.id'));
  else partial.bundleId = bundleId;
  if (headerId === undefined)
    issues.push(
      fhirIssue(
        'required',
        'MessageHeader.id (or a urn:uuid fullUrl for its entry) is required: a re-send is recognised by it',
        'Bundle.entry[0].resource.id',
      ),
    );
  else if (!ID.test(headerId)) issues.push(fhirIssue('value', 'MessageHeader.id is not a valid FHIR id', 'Bundle.entry[0].resource.id'));
  else partial.headerId = headerId;
  if (endpoint === undefined)
    issues.push(
      fhirIssue('required', 'MessageHeader.source.endpoint is required: it names the sender', 'Bundle.entry[0].resource.source.endpoint'),
    );
  const event = obj(first.eventCoding);
  if (!event) issues.push(fhirIssue('required', 'MessageHeader.eventCoding is required', 'Bundle.entry[0].resource.eventCoding'));
  const timestamp = str(resource.timestamp);
  if (resource.timestamp !== undefined && (timestamp === undefined || !INSTANT.test(timestamp) || Number.isNaN(Date.parse(timestamp))))
    issues.push(fhirIssue('value', 'Bundle.timestamp must be an instant with a time zone', 'Bundle.timestamp'));
  if (issues.length > 0 || bundleId === undefined || headerId === undefined || endpoint === undefined || !event)
    return { ok: false, issues, partial };
  const message: MessageBundle = {
    bundle: resource,
    header: first,
    bundleId,
    headerId,
    event: {
      ...optional('system', str(event.system)),
      ...optional('code', str(event.code)),
    },
    sourceEndpoint: endpoint,
    entries: entries.flatMap((e, i) => {
      const r = obj(e.resource);
      if (!r) return [];
      const fullUrl = str(e.fullUrl);
      return [{ resource: r, expression: `Bundle.entry[${i}].resource`, ...(fullUrl !== undefined ? { fullUrl } : {}) }];
    }),
  };
  if (timestamp !== undefined) message.timestamp = timestamp;
  return { ok: true, message };
}

const optional = <K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> =>
  v === undefined ? {} : ({ [key]: v } as Partial<Record<K, string>>);

/** The control id stored for a FHIR message: Bundle.id and MessageHeader.id, both of which a re-send keeps. */
export const fhirControlId = (m: { bundleId: string; headerId: string }): string => `${m.bundleId}/${m.headerId}`;

/**
 * The entry a reference points to: `urn:uuid:…` or an absolute URL matched on fullUrl, `Type/id` on the
 * resource's type and id (or a fullUrl ending in it).
 */
export function resolveReference(entries: readonly BundleEntry[], reference: string | undefined): BundleEntry | undefined {
  if (reference === undefined || reference === '') return undefined;
  const exact = entries.find((e) => e.fullUrl === reference);
  if (exact) return exact;
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
  if (!m) return undefined;
  return entries.find((e) => (e.resource.resourceType === m[1] && e.resource.id === m[2]) || e.fullUrl?.endsWith(`/${reference}`) === true);
}
