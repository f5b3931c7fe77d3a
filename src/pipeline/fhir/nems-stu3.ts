/**
 * NHS national birth notifications (NEMS, FHIR STU3): the PDS birth notification event message
 * (`pds-birth-notification-1`, and the older `PDS003`) read into the shape the R4 birth mapping reads, then
 * mapped by it (map-fhir-r4.ts) with the feed's own mapping (`mappings/fhir/nems-birth-notification.json`), so
 * that both FHIR sources keep one set of safety rules.
 *
 * What differs in STU3 NEMS, and how it is read here:
 * - the event is `MessageHeader.event` (R4: `eventCoding`) and the time `MessageHeader.timestamp` (STU3 Bundles
 *   have none);
 * - the MessageHeader focuses on a Communication about the mother, not on the baby: the baby is the Patient a
 *   mother RelatedPerson points to (`RelatedPerson.patient`; the mother's Patient links to that RelatedPerson);
 * - the stillbirth indicator is an Observation: any value other than a live-birth indicator makes the baby
 *   deceased (never offered); an unreadable one too, with a warning;
 * - the number of births is an Observation about the mother; the place of delivery is the Organization of the
 *   delivery-place EpisodeOfCare; the GP is a directory URL ending in the practice's ODS code;
 * - a mother's NHS number that cannot be used (the corpus example's fails the Modulus 11 check) is reported as
 *   a warning and left out: the baby is still processed.
 *
 * The sender is the feed the caller names (a NEMS subscription's MESH mailbox, or the feed's API client), not
 * MessageHeader.source.endpoint (the national publisher's ASID). Pure: no I/O, never throws on input.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import type { BackfillAdmission } from '../hl7v2/map-outcome.js';
import { answerFor, readFhirResource, refused, type FhirAssessment } from './assess-fhir.js';
import { fhirIssue, type FhirIssue } from './fhir-issue.js';
import { codingKey, type FhirMapping } from './fhir-mapping.js';
import type { NemsFeedConfig } from './fhir-feed.js';
import type { FhirEncoding } from './fhir-response.js';
import type { JsonObject, JsonValue } from './fhir-xml.js';
import { obj, objs, str } from './json-access.js';
import { mapFhirBirth, type FhirMapOutcome } from './map-fhir-r4.js';
import { readMessageBundle, resolveReference, type BundleEntry } from './message-bundle.js';
import { nhsNumberOf } from './uk-core-checks.js';

export interface NemsAssessContext {
  feed: NemsFeedConfig;
  mapping: FhirMapping;
  receivedAt: Date;
  maxBytes: number;
}

/** STU3 writes `event` where R4 writes `eventCoding`: errors name the element as the sender wrote it. */
const asWritten = (issues: FhirIssue[]): FhirIssue[] =>
  issues.map((i) => (i.expression?.includes('.eventCoding') ? { ...i, expression: i.expression.replace('.eventCoding', '.event') } : i));

/**
 * Decides what intake does with one NEMS message received for `ctx.feed` (by MESH or by the feed's API client),
 * before anything is stored: read it (JSON, or XML with the STU3 model), check the envelope and event, find the
 * baby, mother and observations, and map it. Never throws.
 */
export function assessNemsMessage(bytes: Buffer, encoding: FhirEncoding, ctx: NemsAssessContext): FhirAssessment {
  const read = readFhirResource(bytes, encoding, ctx.maxBytes, 'stu3');
  // The feed is the caller's (a MESH mailbox, or the feed's own API client): even an unreadable body is its.
  const verified = { feed: ctx.feed, senderVerified: true as const };
  if (!read.ok) return refused([read.issue], {}, { ...verified, reason: `Unparseable: ${read.issue.diagnostics}` });
  const normalised = normaliseEnvelope(read.resource);
  const bundle = readMessageBundle(normalised);
  if (!bundle.ok) return refused(asWritten(bundle.issues), bundle.partial, verified);
  const m = bundle.message;
  const envelope = { bundleId: m.bundleId, headerId: m.headerId, sourceEndpoint: m.sourceEndpoint, event: m.event };
  if (!ctx.mapping.events.has(codingKey(m.event)))
    return refused(
      [
        fhirIssue(
          'not-supported',
          `Event ${m.event.code ?? '(none)'} of ${m.event.system ?? '(no system)'} is not a birth notification this feed accepts`,
          'Bundle.entry[0].resource.event',
        ),
      ],
      envelope,
      verified,
    );
  let outcome: FhirMapOutcome;
  const notes: FhirIssue[] = [];
  try {
    const prepared = prepareBirth(m.bundle, m.entries, ctx.mapping, notes);
    if (!prepared.ok) return refused([prepared.issue], envelope, verified);
    const again = readMessageBundle(prepared.bundle);
    if (!again.ok) return refused(asWritten(again.issues), envelope, verified);
    outcome = mapFhirBirth(again.message, ctx.mapping, {
      feedId: ctx.feed.id,
      receivedAt: ctx.receivedAt,
      ...(ctx.feed.backfill ? { backfill: ctx.feed.backfill } : {}),
    });
  } catch (err) {
    return refused([fhirIssue('exception', 'Internal error while mapping the message; it is kept for an operator')], envelope, {
      ...verified,
      internalError: err,
    });
  }
  switch (outcome.kind) {
    case 'birth': {
      const notification: BirthNotification = { ...outcome.notification, source: { ...outcome.notification.source, format: 'nems-stu3' } };
      const backfill: BackfillAdmission | undefined = outcome.backfill;
      return {
        status: 'queued',
        httpStatus: 200,
        issues: [...notes, ...asWritten(outcome.issues)],
        envelope,
        ...verified,
        notification,
        ...(backfill ? { backfill } : {}),
      };
    }
    case 'not-relevant':
      return {
        status: 'not-relevant',
        httpStatus: 200,
        issues: [
          ...notes,
          ...asWritten(outcome.issues),
          fhirIssue('informational', `Not relevant: ${outcome.reason}`, undefined, { severity: 'information' }),
        ],
        reason: outcome.reason,
        envelope,
        ...verified,
      };
    case 'invalid':
      return refused([...asWritten(outcome.issues), ...notes], envelope, verified);
  }
}

/**
 * The answer to an assessed NEMS message, in STU3 terms: the response MessageHeader says `event` (R4:
 * `eventCoding`) and carries the `timestamp` (an STU3 Bundle has none); an OperationOutcome is the same in both.
 */
export function answerForNems(a: FhirAssessment, ids: { bundle: string; header: string; outcome: string }, at: Date): JsonObject {
  const answer = answerFor(a, ids, at);
  if (answer.resourceType !== 'Bundle') return answer;
  const { timestamp: _bundleTime, ...bundle } = answer;
  return {
    ...bundle,
    entry: objs(answer.entry).map((e): JsonValue => {
      const r = obj(e.resource);
      if (r?.resourceType !== 'MessageHeader') return e;
      const { eventCoding, ...rest } = r;
      return {
        ...e,
        resource: { resourceType: 'MessageHeader', id: rest.id ?? null, event: eventCoding ?? null, timestamp: at.toISOString(), ...rest },
      };
    }),
  };
}

/** The STU3 MessageHeader's `event` and `timestamp` where the R4 reader looks for them (eventCoding, Bundle.timestamp). */
function normaliseEnvelope(resource: JsonObject): JsonObject {
  if (resource.resourceType !== 'Bundle') return resource;
  const entries = Array.isArray(resource.entry) ? resource.entry : [];
  const first = obj(entries[0]);
  const header = obj(first?.resource);
  if (!first || header?.resourceType !== 'MessageHeader') return resource;
  const h: JsonObject = { ...header };
  if (h.eventCoding === undefined && h.event !== undefined) h.eventCoding = h.event;
  const out: JsonObject = { ...resource, entry: [{ ...first, resource: h }, ...entries.slice(1)] };
  if (out.timestamp === undefined && typeof h.timestamp === 'string') out.timestamp = h.timestamp;
  return out;
}

const copy = (r: JsonObject): JsonObject => JSON.parse(JSON.stringify(r)) as JsonObject;

/**
 * A copy of the bundle in the R4 reader's terms: the MessageHeader focused on the baby, the stillbirth
 * indicator as `deceasedBoolean`, the place of delivery as the birthPlace extension, the number of births about
 * the baby, a directory GP reference as an ODS identifier, and the STU3 confidentiality system. `notes` gets
 * what was reported on the way (warnings, never errors for the mother's NHS number).
 */
function prepareBirth(
  bundle: JsonObject,
  entries: readonly BundleEntry[],
  mapping: FhirMapping,
  notes: FhirIssue[],
): { ok: true; bundle: JsonObject } | { ok: false; issue: FhirIssue } {
  const rules = mapping.file.nems;
  const out = copy(bundle);
  const outEntries = objs(out.entry);
  // The copy's resource of an entry (entries are named by their index in Bundle.entry).
  const same = (e: BundleEntry): JsonObject | undefined => {
    const i = /^Bundle\.entry\[(\d+)\]\.resource$/.exec(e.expression)?.[1];
    return i === undefined ? undefined : obj(outEntries[Number(i)]?.resource);
  };
  const mothers = entries.filter(
    (e) =>
      e.resource.resourceType === 'RelatedPerson' &&
      [...objs(e.resource.relationship), ...[obj(e.resource.relationship)].filter((x): x is JsonObject => x !== undefined)].some((r) =>
        objs(r.coding).some((c) => mapping.motherRelationships.has(codingKey(c))),
      ),
  );
  const babies = [
    ...new Set(
      mothers
        .map((r) => resolveReference(entries, str(obj(r.resource.patient)?.reference)))
        .filter((e): e is BundleEntry => e?.resource.resourceType === 'Patient'),
    ),
  ];
  const patients = entries.filter((e) => e.resource.resourceType === 'Patient');
  if (babies.length > 1)
    return {
      ok: false,
      issue: fhirIssue(
        'not-supported',
        'One baby per notification: mother RelatedPersons point to more than one Patient',
        mothers[1]?.expression,
      ),
    };
  const babyEntry = babies[0];
  if (!babyEntry)
    return {
      ok: false,
      issue: fhirIssue(
        'required',
        patients.length === 0
          ? 'The notification holds no Patient'
          : 'The baby cannot be found: no RelatedPerson with a mother relationship points to a Patient in the bundle',
        'Bundle.entry.resource.ofType(RelatedPerson).patient',
      ),
    };
  const baby = same(babyEntry);
  const header = obj(outEntries[0]?.resource);
  if (!baby || !header) return { ok: false, issue: fhirIssue('structure', 'The bundle could not be read', 'Bundle.entry') };
  const babyRef = babyEntry.fullUrl ?? `Patient/${str(baby.id) ?? ''}`;
  header.focus = [{ reference: babyRef }];

  // The mother: the one other Patient. A Modulus 11 failure or a malformed NHS number is a warning, the number left out.
  const nhsSystem = mapping.file.identifiers.nhsNumber;
  for (const e of patients.filter((p) => p !== babyEntry)) {
    const r = same(e);
    if (!r) continue;
    const checked = nhsNumberOf(e.resource, e.expression, {
      nhsNumber: nhsSystem,
      verificationStatusUrl: mapping.file.extensions.nhsNumberVerificationStatus,
    });
    const unusable = checked.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (unusable.length > 0) {
      notes.push(
        ...unusable.map((i) => ({
          ...i,
          severity: 'warning' as const,
          diagnostics: `mother.nhsNumber: ${i.diagnostics}; the mother's NHS number is left out and the baby processed`,
          path: 'mother.nhsNumber',
        })),
      );
      r.identifier = objs(r.identifier).filter((id) => str(id.system) !== nhsSystem);
    }
  }

  // Confidentiality: the other spelling of the v3 Confidentiality system read as the mapping's.
  const aliases = new Set(rules?.confidentialitySystemAliases ?? []);
  const relabel = (r: JsonObject | undefined) => {
    for (const s of objs(obj(r?.meta)?.security)) if (aliases.has(str(s.system) ?? '')) s.system = mapping.file.confidentiality.system;
  };
  relabel(out);
  for (const e of outEntries) relabel(obj(e.resource));
  // STU3 RelatedPerson.relationship is one CodeableConcept; R4's is a list.
  for (const e of outEntries) {
    const r = obj(e.resource);
    const rel = obj(r?.relationship);
    if (r?.resourceType === 'RelatedPerson' && rel) r.relationship = [rel];
  }

  for (const [i, e] of outEntries.entries()) {
    const r = obj(e.resource);
    if (!r) continue;
    const subject = resolveReference(entries, str(obj(r.subject)?.reference));
    const keys = objs(obj(r.code)?.coding).map(codingKey);
    if (r.resourceType === 'Observation' && keys.some((k) => mapping.numberOfBirths.has(k)) && subject !== babyEntry) {
      // The number of births at the delivery is recorded about the mother: it is as true of the baby.
      r.subject = { reference: babyRef };
    }
    if (r.resourceType === 'Observation' && keys.some((k) => mapping.stillbirth.has(k)) && subject === babyEntry) {
      if (r.status === 'entered-in-error' || r.status === 'cancelled') continue;
      const indicator = objs(obj(r.valueCodeableConcept)?.coding);
      const live = indicator.some((c) => mapping.liveIndicators.has(codingKey(c)));
      if (!live) {
        if (baby.deceasedBoolean === undefined && baby.deceasedDateTime === undefined) baby.deceasedBoolean = true;
        notes.push(
          indicator.length === 0
            ? fhirIssue(
                'required',
                'The stillbirth indicator has no value: the baby is treated as stillborn and never offered',
                `Bundle.entry[${i}].resource.valueCodeableConcept`,
                { severity: 'warning', path: 'baby.deceased' },
              )
            : fhirIssue('informational', 'Stillbirth indicated: recorded as deceased, never offered', `Bundle.entry[${i}].resource`, {
                severity: 'information',
                path: 'baby.deceased',
              }),
        );
      }
    }
  }

  // A death recorded before the birth cannot be right: the baby stays deceased, the time is left out.
  const died = str(baby.deceasedDateTime);
  const born = str(baby.birthDate);
  if (died !== undefined && born !== undefined && died.slice(0, 10) < born) {
    delete baby.deceasedDateTime;
    baby.deceasedBoolean = true;
    notes.push(
      fhirIssue(
        'invariant',
        'deceasedDateTime is before birthDate: the baby is recorded as deceased without the time',
        `${babyEntry.expression}.deceasedDateTime`,
        { severity: 'warning', path: 'baby.deceasedAt' },
      ),
    );
  }

  // Place of delivery: the delivery-place EpisodeOfCare's Organization (the unit, more precise than the town
  // of the birthPlace extension, which is kept when there is no such episode).
  const birthPlaceUrl = mapping.file.extensions.birthPlace;
  const place = rules
    ? deliveryPlace(entries, babyEntry, codingKey(rules.deliveryPlaceEpisode), mapping.file.identifiers.odsOrganisation)
    : undefined;
  if (place !== undefined)
    baby.extension = [
      ...objs(baby.extension).filter((x) => str(x.url) !== birthPlaceUrl),
      { url: birthPlaceUrl, valueAddress: { text: place } },
    ];

  // GP: the baby's; a newborn not yet registered anywhere is the mother's practice's (the PDS birth notification
  // carries the GP on the mother's Patient). A directory URL ending in the ODS code is that practice.
  const motherEntry = patients.find((p) => p !== babyEntry);
  if (objs(baby.generalPractitioner).length === 0 && motherEntry) {
    const gp = objs(motherEntry.resource.generalPractitioner);
    if (gp.length > 0) baby.generalPractitioner = gp;
  }
  if (rules) {
    const ods = mapping.file.identifiers.odsOrganisation;
    baby.generalPractitioner = objs(baby.generalPractitioner).map((g): JsonValue => {
      const ref = str(g.reference);
      if (!ref?.startsWith(rules.gpDirectoryPrefix)) return g;
      const code = ref.slice(rules.gpDirectoryPrefix.length);
      if (!/^[A-Z0-9]{3,10}$/.test(code)) return g;
      const display = str(g.display);
      return { identifier: { system: ods, value: code }, ...(display !== undefined ? { display } : {}) };
    });
    if (objs(baby.generalPractitioner).length === 0) delete baby.generalPractitioner;
  }
  return { ok: true, bundle: out };
}

/** The place of delivery as words: the Organization's name (and ODS code), else its address. */
function deliveryPlace(entries: readonly BundleEntry[], baby: BundleEntry, episodeType: string, odsSystem: string): string | undefined {
  for (const e of entries) {
    const r = e.resource;
    if (r.resourceType !== 'EpisodeOfCare') continue;
    const types = objs(r.type).flatMap((t) => objs(t.coding).map(codingKey));
    if (!types.includes(episodeType)) continue;
    if (resolveReference(entries, str(obj(r.patient)?.reference)) !== baby) continue;
    const org = resolveReference(entries, str(obj(r.managingOrganization)?.reference));
    if (org?.resource.resourceType !== 'Organization') continue;
    const name = str(org.resource.name);
    const code = str(objs(org.resource.identifier).find((i) => str(i.system) === odsSystem)?.value);
    if (name !== undefined) return code !== undefined ? `${name} (${code})` : name;
    const a = objs(org.resource.address)[0];
    const parts = [...(Array.isArray(a?.line) ? a.line : []), a?.city, a?.district].filter(
      (x): x is string => typeof x === 'string' && x.trim() !== '',
    );
    if (parts.length > 0) return code !== undefined ? `${parts.join(', ')} (${code})` : parts.join(', ');
    if (code !== undefined) return code;
  }
  return undefined;
}
