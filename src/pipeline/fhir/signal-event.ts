/**
 * Signal events (POST /v1/events): a small notice that a birth was recorded, naming a subject (the baby's NHS
 * number and/or a Patient reference on the feed's FHIR server) and a source (the feed), but not carrying the
 * record: Stork then fetches it. Two forms are read:
 *
 * - CloudEvents 1.0, JSON (structured mode): `specversion` "1.0", `id`, `source` (the feed's sourceEndpoint),
 *   `type`, optional `subject` (`Patient/<id>`), and `data` with `nhsNumber` and/or `patient` (a reference).
 * - FHIR R4: a `Parameters` resource whose `id` is the event id, with parameters `source` (valueUri), `type`
 *   (valueCode, optional), and `subject` (valueReference: `reference` `Patient/<id>` and/or `identifier` with the
 *   NHS number system).
 *
 * Pure: no I/O, never throws. Every problem names its field (a JSON path for CloudEvents, FHIRPath for FHIR).
 */
import { parseNhsNumber } from '../../domain/nhs-number.js';
import type { JsonObject, JsonValue } from './fhir-xml.js';
import { jsonDepth, obj, objs, str } from './json-access.js';

export type SignalEventForm = 'cloudevents' | 'fhir';

export interface SignalEvent {
  form: SignalEventForm;
  eventId: string;
  source: string;
  type?: string;
  /** The Patient reference as sent (`Patient/<id>` or an absolute URL). */
  patientReference?: string;
  nhsNumber?: string;
}

export interface EventProblem {
  /** The field at fault: `data.nhsNumber` (CloudEvents) or `Parameters.parameter.where(name='subject')` (FHIR). */
  field: string;
  message: string;
}

export type ReadSignalEvent =
  | { ok: true; event: SignalEvent }
  | { ok: false; form: SignalEventForm | 'unknown'; problems: EventProblem[]; eventId?: string; source?: string };

const EVENT_ID = /^[A-Za-z0-9\-._:]{1,128}$/;
const MAX_DEPTH = 16;
/** The NHS number identifier system (UK Core). */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Reads a signal event from a JSON body; `fhir` is true when the body was sent as FHIR (application/fhir+json). */
export function readSignalEvent(bytes: Buffer, fhir: boolean): ReadSignalEvent {
  const form = fhir ? 'fhir' : 'cloudevents';
  let data: JsonValue;
  try {
    data = JSON.parse(bytes.toString('utf8')) as JsonValue;
  } catch {
    return { ok: false, form: 'unknown', problems: [{ field: '(body)', message: 'is not valid JSON' }] };
  }
  const root = obj(data);
  if (!root) return { ok: false, form: 'unknown', problems: [{ field: '(body)', message: 'must be a JSON object' }] };
  if (jsonDepth(root, MAX_DEPTH) > MAX_DEPTH)
    return { ok: false, form: 'unknown', problems: [{ field: '(body)', message: `nests deeper than ${MAX_DEPTH} levels` }] };
  if (root.resourceType !== undefined) return readParameters(root);
  if (fhir) return { ok: false, form, problems: [{ field: 'resourceType', message: 'a FHIR event must be a Parameters resource' }] };
  return readCloudEvent(root);
}

function readCloudEvent(e: JsonObject): ReadSignalEvent {
  const problems: EventProblem[] = [];
  if (e.specversion !== '1.0') problems.push({ field: 'specversion', message: 'must be "1.0" (CloudEvents 1.0)' });
  const eventId = str(e.id);
  if (eventId === undefined || !EVENT_ID.test(eventId))
    problems.push({ field: 'id', message: 'is required: 1 to 128 letters, digits, "-", ".", "_" or ":"' });
  const source = str(e.source);
  if (source === undefined || source === '' || source.length > 512)
    problems.push({ field: 'source', message: "is required: the feed's source URI" });
  const type = str(e.type);
  if (type === undefined || type === '' || type.length > 256) problems.push({ field: 'type', message: 'is required' });
  if (e.datacontenttype !== undefined && e.datacontenttype !== 'application/json')
    problems.push({ field: 'datacontenttype', message: 'must be application/json when given' });
  const d = obj(e.data);
  if (e.data !== undefined && !d) problems.push({ field: 'data', message: 'must be a JSON object' });
  const subject = str(e.subject);
  if (e.subject !== undefined && subject === undefined) problems.push({ field: 'subject', message: 'must be a string' });
  const patient = str(d?.patient) ?? subject;
  if (d?.patient !== undefined && str(d.patient) === undefined)
    problems.push({ field: 'data.patient', message: 'must be a reference string' });
  let nhsNumber: string | undefined;
  if (d?.nhsNumber !== undefined) {
    const parsed = typeof d.nhsNumber === 'string' ? parseNhsNumber(d.nhsNumber) : undefined;
    if (!parsed?.ok) problems.push({ field: 'data.nhsNumber', message: 'must be a valid NHS number (10 digits, check digit)' });
    else nhsNumber = parsed.value;
  }
  if (patient === undefined && d?.nhsNumber === undefined)
    problems.push({ field: 'data', message: 'must name the subject: data.nhsNumber and/or data.patient (or subject)' });
  if (patient !== undefined && !patientReference(patient))
    problems.push({ field: d?.patient !== undefined ? 'data.patient' : 'subject', message: 'must be a Patient reference (Patient/<id>)' });
  if (problems.length > 0 || eventId === undefined || source === undefined)
    return {
      ok: false,
      form: 'cloudevents',
      problems,
      ...(eventId !== undefined && EVENT_ID.test(eventId) ? { eventId } : {}),
      ...(source ? { source } : {}),
    };
  return {
    ok: true,
    event: {
      form: 'cloudevents',
      eventId,
      source,
      ...(type !== undefined ? { type } : {}),
      ...(patient !== undefined ? { patientReference: patient } : {}),
      ...(nhsNumber !== undefined ? { nhsNumber } : {}),
    },
  };
}

const param = (name: string): string => `Parameters.parameter.where(name='${name}')`;

function readParameters(p: JsonObject): ReadSignalEvent {
  const problems: EventProblem[] = [];
  if (p.resourceType !== 'Parameters')
    return { ok: false, form: 'fhir', problems: [{ field: 'resourceType', message: 'a FHIR event must be a Parameters resource' }] };
  const eventId = str(p.id);
  if (eventId === undefined || !/^[A-Za-z0-9\-.]{1,64}$/.test(eventId))
    problems.push({ field: 'Parameters.id', message: 'is required: the event id (a FHIR id), by which a re-send is recognised' });
  const params = objs(p.parameter);
  const one = (name: string): JsonObject | undefined => {
    const found = params.filter((x) => x.name === name);
    if (found.length > 1) problems.push({ field: param(name), message: 'must be given once' });
    return found[0];
  };
  const source = str(one('source')?.valueUri);
  if (source === undefined || source === '' || source.length > 512)
    problems.push({ field: param('source'), message: "is required: valueUri, the feed's source URI" });
  const typeParam = one('type');
  const type = str(typeParam?.valueCode) ?? str(typeParam?.valueString);
  const subject = obj(one('subject')?.valueReference);
  let nhsNumber: string | undefined;
  let patient: string | undefined;
  if (!subject)
    problems.push({
      field: param('subject'),
      message: 'is required: valueReference naming the Patient (reference and/or NHS number identifier)',
    });
  else {
    patient = str(subject.reference);
    if (patient !== undefined && !patientReference(patient))
      problems.push({ field: `${param('subject')}.valueReference.reference`, message: 'must be a Patient reference (Patient/<id>)' });
    const identifier = obj(subject.identifier);
    if (identifier) {
      const parsed =
        identifier.system === NHS_NUMBER_SYSTEM && typeof identifier.value === 'string' ? parseNhsNumber(identifier.value) : undefined;
      if (!parsed?.ok)
        problems.push({
          field: `${param('subject')}.valueReference.identifier`,
          message: `must be a valid NHS number with system ${NHS_NUMBER_SYSTEM}`,
        });
      else nhsNumber = parsed.value;
    }
    if (patient === undefined && !identifier)
      problems.push({ field: `${param('subject')}.valueReference`, message: 'must have a reference or an NHS number identifier' });
  }
  if (problems.length > 0 || eventId === undefined || source === undefined)
    return { ok: false, form: 'fhir', problems, ...(eventId !== undefined ? { eventId } : {}), ...(source ? { source } : {}) };
  return {
    ok: true,
    event: {
      form: 'fhir',
      eventId,
      source,
      ...(type !== undefined ? { type } : {}),
      ...(patient !== undefined ? { patientReference: patient } : {}),
      ...(nhsNumber !== undefined ? { nhsNumber } : {}),
    },
  };
}

/** Whether a reference names a Patient: `Patient/<id>`, or an absolute URL ending in it. */
function patientReference(ref: string): boolean {
  return /(^|\/)Patient\/[A-Za-z0-9\-.]{1,64}$/.test(ref) && ref.length <= 512;
}

/**
 * The Patient id a reference names on the feed's server: `Patient/<id>`, or an absolute URL of that server
 * (`<baseUrl>/Patient/<id>`). A reference to anywhere else is refused: Stork fetches only from the configured server.
 */
export function patientIdOn(baseUrl: string, reference: string): string | undefined {
  const rel = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
  if (rel) return rel[1];
  const base = baseUrl.replace(/\/+$/, '');
  if (!reference.startsWith(`${base}/Patient/`)) return undefined;
  return /^([A-Za-z0-9\-.]{1,64})$/.exec(reference.slice(base.length + '/Patient/'.length))?.[1];
}
