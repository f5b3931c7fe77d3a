/**
 * What Stork answers a FHIR message with: an OperationOutcome for an error (HTTP status from its first error
 * issue), a response message Bundle for success, both in JSON or XML; and the CapabilityStatement of what it
 * accepts. Pure.
 */
import { FHIR_NS, type JsonObject, type JsonValue } from './fhir-xml.js';
import type { FhirIssue, FhirIssueCode } from './fhir-issue.js';
import type { MessageBundle } from './message-bundle.js';

export type FhirEncoding = 'json' | 'xml';
export const FHIR_MEDIA_TYPES: Record<FhirEncoding, string> = { json: 'application/fhir+json', xml: 'application/fhir+xml' };

/** HTTP status for an answer whose first error issue has this code. */
export function httpStatusFor(code: FhirIssueCode | undefined): number {
  switch (code) {
    case undefined:
    case 'informational':
      return 200;
    case 'security':
    case 'structure':
    case 'too-costly':
      return 400;
    case 'forbidden':
      return 403;
    case 'transient':
      return 503;
    case 'exception':
      return 500;
    default:
      return 422;
  }
}

export function operationOutcome(issues: readonly FhirIssue[]): JsonObject {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression !== undefined ? { expression: [i.expression] } : {}),
    })),
  };
}

export const STORK_ENDPOINT = 'urn:stork:hub';

/**
 * The response message: a Bundle of type message whose MessageHeader answers the request's (response.identifier
 * is the request's MessageHeader.id, code ok), with an OperationOutcome for any warnings or a "not relevant" reason.
 */
export function responseBundle(opts: {
  /** Fresh ids (uuids) for the response Bundle, its MessageHeader and its OperationOutcome. */
  ids: { bundle: string; header: string; outcome: string };
  at: Date;
  request: Pick<MessageBundle, 'headerId' | 'event' | 'sourceEndpoint'>;
  notes: readonly FhirIssue[];
}): JsonObject {
  const headerUrl = `urn:uuid:${opts.ids.header}`;
  const outcomeId = opts.ids.outcome;
  const header: JsonObject = {
    resourceType: 'MessageHeader',
    id: opts.ids.header,
    eventCoding: {
      ...(opts.request.event.system ? { system: opts.request.event.system } : {}),
      ...(opts.request.event.code ? { code: opts.request.event.code } : {}),
    },
    destination: [{ endpoint: opts.request.sourceEndpoint }],
    source: { name: 'Stork', endpoint: STORK_ENDPOINT },
    response: {
      identifier: opts.request.headerId,
      code: 'ok',
      ...(opts.notes.length > 0 ? { details: { reference: `urn:uuid:${outcomeId}` } } : {}),
    },
  };
  const entry: JsonValue[] = [{ fullUrl: headerUrl, resource: header }];
  if (opts.notes.length > 0) entry.push({ fullUrl: `urn:uuid:${outcomeId}`, resource: { ...operationOutcome(opts.notes), id: outcomeId } });
  return { resourceType: 'Bundle', id: opts.ids.bundle, type: 'message', timestamp: opts.at.toISOString(), entry };
}

/** The CapabilityStatement served at GET /v1/fhir/metadata: messaging, $process-message, the events each mapping accepts. */
export function capabilityStatement(opts: { at: Date; version: string; events: readonly { system: string; code: string }[] }): JsonObject {
  const seen = new Set<string>();
  const events = opts.events.filter((e) => {
    const k = `${e.system}|${e.code}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return {
    resourceType: 'CapabilityStatement',
    extension: events.map((e) => ({
      url: 'https://stork.nhs.example/fhir/StructureDefinition/accepted-event',
      valueCoding: { system: e.system, code: e.code },
    })),
    status: 'active',
    date: opts.at.toISOString().slice(0, 10),
    publisher: 'Stork',
    kind: 'instance',
    software: { name: 'Stork', version: opts.version },
    implementation: { description: 'Stork birth-notification hub: FHIR R4 messaging intake' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/fhir+xml'],
    rest: [
      {
        mode: 'server',
        documentation:
          'POST $process-message with a message Bundle (first entry a MessageHeader; Bundle.id and MessageHeader.id recognise a re-send). Authorization: Bearer <feed key>.',
        security: { description: 'Bearer API key of the FHIR feed named by MessageHeader.source.endpoint' },
        operation: [{ name: 'process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' }],
      },
    ],
    messaging: [
      {
        documentation:
          'Birth messages: the baby as Patient (MessageHeader.focus), the mother as Patient or RelatedPerson, birth weight and gestation Observations (UK Core).',
        supportedMessage: [{ mode: 'receiver', definition: 'https://stork.nhs.example/fhir/MessageDefinition/birth-notification' }],
      },
    ],
  };
}

/**
 * Serialises a FHIR JSON resource as FHIR XML: primitives as `value` attributes (with their `_x` id and
 * extensions), element ids and extension URLs as attributes, the narrative div as XHTML, contained resources
 * wrapped. Element order is the JSON's, which Stork builds in FHIR order.
 */
export function toFhirXml(resource: JsonObject): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${complex(typeof resource.resourceType === 'string' ? resource.resourceType : 'Resource', resource, true)}`;
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

function element(name: string, v: JsonValue | undefined, ext: JsonValue | undefined): string {
  if (Array.isArray(v) || Array.isArray(ext)) {
    const values = Array.isArray(v) ? v : [];
    const exts = Array.isArray(ext) ? ext : [];
    return Array.from({ length: Math.max(values.length, exts.length) }, (_x, i) =>
      element(name, values[i] ?? null, exts[i] ?? undefined),
    ).join('');
  }
  if (v !== null && v !== undefined && typeof v === 'object') {
    if (typeof v.resourceType === 'string') return `<${name}>${complex(v.resourceType, v, true)}</${name}>`;
    return complex(name, v, false);
  }
  if (name === 'div' && typeof v === 'string') return v;
  const extra = ext !== null && ext !== undefined && typeof ext === 'object' && !Array.isArray(ext) ? ext : undefined;
  if ((v === null || v === undefined) && !extra) return '';
  const value = v === null || v === undefined ? '' : ` value="${esc(String(v))}"`;
  const id = typeof extra?.id === 'string' ? ` id="${esc(extra.id)}"` : '';
  const children = extra ? element('extension', extra.extension, undefined) : '';
  return children === '' ? `<${name}${id}${value}/>` : `<${name}${id}${value}>${children}</${name}>`;
}

function complex(name: string, v: JsonObject, isResource: boolean): string {
  const attrs = [
    isResource ? ` xmlns="${FHIR_NS}"` : '',
    !isResource && typeof v.id === 'string' ? ` id="${esc(v.id)}"` : '',
    (name === 'extension' || name === 'modifierExtension') && typeof v.url === 'string' ? ` url="${esc(v.url)}"` : '',
  ].join('');
  const body = Object.entries(v)
    .filter(([k]) => {
      if (k === 'resourceType') return false;
      if (!isResource && k === 'id') return false;
      if ((name === 'extension' || name === 'modifierExtension') && k === 'url') return false;
      // `_x` goes with `x`; alone (a primitive with only extensions) it is written here.
      return !k.startsWith('_') || v[k.slice(1)] === undefined;
    })
    .map(([k, x]) => (k.startsWith('_') ? element(k.slice(1), null, x) : element(k, x, v[`_${k}`])))
    .join('');
  return `<${name}${attrs}>${body}</${name}>`;
}

export function serialise(resource: JsonObject, encoding: FhirEncoding): Buffer {
  return Buffer.from(encoding === 'xml' ? toFhirXml(resource) : JSON.stringify(resource), 'utf8');
}
