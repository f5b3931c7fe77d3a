import type { FhirMapping } from '../pipeline/fhir/fhir-mapping.js';
import { codingKey } from '../pipeline/fhir/fhir-mapping.js';
import type { JsonObject } from '../pipeline/fhir/fhir-xml.js';
import { obj, objs, str } from '../pipeline/fhir/json-access.js';
import { FhirFetchError, type FhirServer } from '../ports/fhir-server.js';

/** What one fetch found: the baby's Patient and the resources about it. */
export interface FetchedBirth {
  baby: JsonObject;
  related: JsonObject[];
}

export interface FetchLimits {
  maxPages: number;
  maxRelated: number;
}

/** The resources of a searchset page that matched (search.mode `match`, or no mode given). */
export function matches(bundle: JsonObject, resourceType: string): JsonObject[] {
  return objs(bundle.entry)
    .filter((e) => str(obj(e.search)?.mode) === undefined || str(obj(e.search)?.mode) === 'match')
    .map((e) => obj(e.resource))
    .filter((r): r is JsonObject => r?.resourceType === resourceType);
}

/** Every match of a search, following `next` links, at most `limit` resources and `maxPages` pages. */
export async function searchAll(
  server: FhirServer,
  resourceType: string,
  params: Record<string, string>,
  limit: number,
  maxPages: number,
): Promise<JsonObject[]> {
  const found: JsonObject[] = [];
  let page: JsonObject | undefined = await server.search(resourceType, params);
  for (let n = 1; page !== undefined; n++) {
    if (page.resourceType !== 'Bundle') throw new FhirFetchError('refused', 'a search answered something other than a Bundle');
    found.push(...matches(page, resourceType));
    if (found.length >= limit || n >= maxPages) break;
    page = await server.nextPage(page);
  }
  return found.slice(0, limit);
}

/** The baby's Patient: read by id, or found by NHS number (exactly one match, else not found). */
export async function findBaby(
  server: FhirServer,
  subject: { patientId?: string; nhsNumber?: string },
  nhsSystem: string,
): Promise<JsonObject> {
  if (subject.patientId !== undefined) {
    const p = await server.read('Patient', subject.patientId);
    if (p.resourceType !== 'Patient') throw new FhirFetchError('refused', 'the read did not answer a Patient');
    // An event naming both: the Patient must carry that NHS number (a wrong reference never becomes someone else's birth).
    const own = objs(p.identifier).filter((i) => i.system === nhsSystem && typeof i.value === 'string');
    if (subject.nhsNumber !== undefined && !own.some((i) => str(i.value)?.replace(/\s/g, '') === subject.nhsNumber))
      throw new FhirFetchError('refused', 'the Patient does not have the NHS number the event names');
    return p;
  }
  if (subject.nhsNumber === undefined) throw new FhirFetchError('not-found', 'the event names no subject');
  const found = await searchAll(server, 'Patient', { identifier: `${nhsSystem}|${subject.nhsNumber}` }, 2, 1);
  if (found.length !== 1 || found[0] === undefined)
    throw new FhirFetchError(
      found.length === 0 ? 'not-found' : 'refused',
      found.length === 0 ? 'no Patient has that NHS number' : 'more than one Patient has that NHS number',
    );
  return found[0];
}

/**
 * The resources a birth is read from, fetched for one baby: its RelatedPersons, its Observations (birth weight,
 * gestation…), and the mother's Patient (by the NHS number of a RelatedPerson with a mother relationship, or the
 * baby's Patient.link), all within the limits. A mother who cannot be found is left out (the baby is still a birth).
 */
export async function fetchBirthRecord(
  server: FhirServer,
  baby: JsonObject,
  mapping: FhirMapping,
  limits: FetchLimits,
): Promise<FetchedBirth> {
  const id = str(baby.id);
  if (id === undefined) throw new FhirFetchError('refused', 'the Patient has no id');
  const ref = `Patient/${id}`;
  const related: JsonObject[] = [];
  const room = (): number => Math.max(0, limits.maxRelated - related.length);
  related.push(...(await searchAll(server, 'RelatedPerson', { patient: ref }, room(), limits.maxPages)));
  if (room() > 0) related.push(...(await searchAll(server, 'Observation', { subject: ref }, room(), limits.maxPages)));
  const nhsSystem = mapping.file.identifiers.nhsNumber;
  const mothers = related.filter(
    (r) =>
      r.resourceType === 'RelatedPerson' &&
      objs(r.relationship).some((rel) => objs(rel.coding).some((c) => mapping.motherRelationships.has(codingKey(c)))),
  );
  const motherNhs = mothers.flatMap((m) => objs(m.identifier)).find((i) => i.system === nhsSystem && typeof i.value === 'string');
  const linked = objs(baby.link)
    .map((l) => str(obj(l.other)?.reference))
    .find((r) => r !== undefined && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(r));
  if (room() > 0) {
    try {
      if (motherNhs !== undefined) {
        const found = await searchAll(server, 'Patient', { identifier: `${nhsSystem}|${str(motherNhs.value) ?? ''}` }, 2, 1);
        if (found.length === 1 && found[0] !== undefined) related.push(found[0]);
      } else if (linked !== undefined) {
        related.push(await server.read('Patient', linked.slice('Patient/'.length)));
      }
    } catch (err) {
      if (!(err instanceof FhirFetchError) || err.failure !== 'not-found') throw err;
    }
  }
  return { baby, related };
}
