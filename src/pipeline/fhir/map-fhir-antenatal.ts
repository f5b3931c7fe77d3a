/**
 * FHIR R4 maternity bookings and pregnancy losses (issue 17 item 1): a message whose MessageHeader.eventCoding the
 * mapping lists under `antenatal.bookingEvents` or `antenatal.lossEvents` becomes the same canonical AntenatalEvent
 * (src/domain/antenatal-notification.ts) as an HL7 v2 SIU^S12 / ADT^A05 booking or an A38 / A08 loss does, and is
 * processed by the same code (agreement, consent, routing, Expecting list, family). Read here:
 *
 * - the pregnancy: the EpisodeOfCare whose `type` is one of `antenatal.episodeTypes` (sample: SNOMED 424525001
 *   Antenatal care) and/or the Condition whose `code` is one of `antenatal.pregnancyConditions` (sample: SNOMED
 *   77386006 Pregnancy); entries `entered-in-error` are left out. Its id (to tell pregnancies apart, so that a loss
 *   withdraws only its own): the first `identifier.value` of the episode, else of the Condition;
 * - the mother: the Patient the episode's `patient` names, else the Condition's `subject`, else the Patient
 *   MessageHeader.focus names, else the message's only Patient. Her NHS number (check digit tested, UK Core
 *   verification status read), name, birthDate, home address, phone, language (`communication`, the preferred one),
 *   GP practice (`generalPractitioner`, an Organization in the Bundle or a logical reference by ODS code);
 * - the estimated due date: `valueDateTime` of an Observation about her (not cancelled) whose code is one of
 *   `antenatal.dueDate.observationCodes` (sample: LOINC 11778-8), else an extension of the pregnancy Condition or
 *   EpisodeOfCare whose URL is in `antenatal.dueDate.extensions` (valueDate or valueDateTime); to the day;
 * - her consents: active Consent resources in Stork's consent-scope system (map-consent.ts), `antenatal` for this;
 * - confidentiality: `meta.security` of the Bundle, the Patient, the episode or the Condition;
 * - a loss: on a `lossEvents` message, a Condition about her whose code is in `antenatal.lossCodes` (the SNOMED CT
 *   codes the HL7 v2 booking mapping uses), or an Observation whose code is in `antenatal.outcomeObservationCodes`
 *   (sample: LOINC 63893-2) with a `valueCodeableConcept` in `lossCodes`. On any antenatal message, an antenatal
 *   EpisodeOfCare with status `finished` or `cancelled` whose `diagnosis.condition` is such a Condition is a loss too.
 *   A booking's other Conditions (an earlier miscarriage in her history) are not a loss. An outcome message without a
 *   loss is not relevant.
 *
 * A booking without the mother's NHS number or a due date to the day is refused, each error naming its element
 * (FHIRPath) in the OperationOutcome; a loss without her NHS number likewise. Pure, never throws for a message.
 */
import type { AntenatalEvent, AntenatalSource, ExpectingMother } from '../../domain/antenatal-notification.js';
import type { BirthNotification, Confidentiality } from '../../domain/birth-notification.js';
import { fhirIssue, hasFhirErrors, type FhirIssue } from './fhir-issue.js';
import { codingKey, type FhirAntenatalRules, type FhirMapping } from './fhir-mapping.js';
import type { JsonObject } from './fhir-xml.js';
import { obj, objs, str } from './json-access.js';
import { consentsOf } from './map-consent.js';
import { addressOf, gpOf, languageOf, localIdentifiers, nameOf, phoneOf } from './map-fhir-r4.js';
import { resolveReference, type BundleEntry, type MessageBundle } from './message-bundle.js';
import { confidentialityOf, nhsNumberOf } from './uk-core-checks.js';

export type FhirAntenatalOutcome =
  | { kind: 'antenatal'; event: AntenatalEvent; issues: FhirIssue[] }
  | { kind: 'not-relevant'; reason: string; issues: FhirIssue[] }
  | { kind: 'invalid'; issues: FhirIssue[] };

/** The reason an outcome message that reports no loss is kept with (as the HL7 v2 path's). */
export const NO_LOSS_REASON = 'antenatal outcome that reports no loss';

/** Whether the message's event is one the mapping reads as a booking or a pregnancy outcome. */
export function isAntenatalMessage(m: MessageBundle, mapping: FhirMapping): boolean {
  const k = codingKey(m.event);
  return mapping.antenatalBookingEvents.has(k) || mapping.antenatalLossEvents.has(k);
}

const RANK: Record<Confidentiality, number> = { normal: 0, restricted: 1, 'very-restricted': 2 };
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

const keysOf = (concept: JsonObject | undefined): string[] => objs(concept?.coding).map(codingKey);
const anyIn = (concept: JsonObject | undefined, set: ReadonlySet<string>): boolean => keysOf(concept).some((k) => set.has(k));
const keySet = (list: FhirAntenatalRules['lossCodes']): ReadonlySet<string> => new Set(list.map(codingKey));

/** An entry that still stands: not entered in error (nor refuted, for a Condition). */
function stands(r: JsonObject): boolean {
  const status = str(r.status);
  if (status === 'entered-in-error' || (r.resourceType === 'Observation' && status === 'cancelled')) return false;
  const verification = keysOf(obj(r.verificationStatus)).map((k) => k.slice(k.indexOf('|') + 1));
  return !verification.includes('entered-in-error') && !verification.includes('refuted');
}

/** The first identifier value of a resource, trimmed. */
function firstIdentifier(r: JsonObject | undefined): string | undefined {
  for (const id of objs(r?.identifier)) {
    const v = str(id.value)?.trim();
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** A date to the day from a FHIR date or dateTime: the date part as written (the sender's local date). */
function dayOf(v: string | undefined): { day?: string } {
  const day = v === undefined ? undefined : DATE_TIME.exec(v.trim())?.[1];
  // A real calendar day (2027-02-30 is not one).
  return day !== undefined && !Number.isNaN(Date.parse(day)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day) ? { day } : {};
}

export function mapFhirAntenatal(m: MessageBundle, mapping: FhirMapping, ctx: { feedId: string }): FhirAntenatalOutcome {
  const rules = mapping.file.antenatal;
  if (rules === undefined) return { kind: 'not-relevant', reason: 'the feed takes no antenatal messages', issues: [] };
  const f = mapping.file;
  const isLossEvent = mapping.antenatalLossEvents.has(codingKey(m.event));
  const episodeTypes = keySet(rules.episodeTypes);
  const pregnancyCodes = keySet(rules.pregnancyConditions);
  const lossCodes = keySet(rules.lossCodes);

  const episode = m.entries.find(
    (e) => e.resource.resourceType === 'EpisodeOfCare' && stands(e.resource) && objs(e.resource.type).some((t) => anyIn(t, episodeTypes)),
  );
  const pregnancy = m.entries.find(
    (e) => e.resource.resourceType === 'Condition' && stands(e.resource) && anyIn(obj(e.resource.code), pregnancyCodes),
  );

  // The mother.
  const patients = m.entries.filter((e) => e.resource.resourceType === 'Patient');
  const refTo = (e: BundleEntry | undefined, element: string) =>
    e === undefined ? undefined : resolveReference(m.entries, str(obj(e.resource[element])?.reference));
  const focus = objs(m.header.focus)
    .map((r) => resolveReference(m.entries, str(r.reference)))
    .find((e) => e?.resource.resourceType === 'Patient');
  const named = [refTo(episode, 'patient'), refTo(pregnancy, 'subject'), focus].find((e) => e?.resource.resourceType === 'Patient');
  const mother = named ?? (patients.length === 1 ? patients[0] : undefined);
  if (mother === undefined)
    return {
      kind: 'invalid',
      issues: [
        fhirIssue(
          'required',
          "The mother must be a Patient in the Bundle: named by the EpisodeOfCare's patient, the pregnancy Condition's subject or MessageHeader.focus (or the message's only Patient)",
          episode !== undefined ? `${episode.expression}.patient` : 'Bundle.entry[0].resource.focus',
          { path: 'mother' },
        ),
      ],
    };
  const p = mother.resource;
  const px = mother.expression;
  const issues: FhirIssue[] = [];
  const nhs = nhsNumberOf(p, px, { nhsNumber: f.identifiers.nhsNumber, verificationStatusUrl: f.extensions.nhsNumberVerificationStatus });
  issues.push(...nhs.issues.map((i) => ({ ...i, path: 'mother.nhsNumber' })));
  if (nhs.value === undefined && !hasFhirErrors(issues))
    issues.push(
      fhirIssue(
        'required',
        `The mother's NHS number is missing (an identifier with system ${f.identifiers.nhsNumber})`,
        `${px}.identifier`,
        {
          path: 'mother.nhsNumber',
        },
      ),
    );
  const aboutHer = (r: JsonObject, element: 'subject' | 'patient'): boolean => {
    const ref = str(obj(r[element])?.reference);
    return ref === undefined || resolveReference(m.entries, ref) === mother;
  };
  const source: AntenatalSource = {
    feedId: ctx.feedId,
    format: 'fhir-r4',
    messageControlId: m.bundleId,
    event: `FHIR^${m.event.code ?? 'unknown'}`,
  };
  const pregnancyId = firstIdentifier(episode?.resource) ?? firstIdentifier(pregnancy?.resource);

  // A loss: a loss-coded Condition or outcome Observation on an outcome message; an ended episode whose diagnosis is one.
  const lossCondition = (e: BundleEntry | undefined): boolean =>
    e?.resource.resourceType === 'Condition' && stands(e.resource) && anyIn(obj(e.resource.code), lossCodes);
  const outcomeCodes = keySet(rules.outcomeObservationCodes);
  const reportedLoss =
    isLossEvent &&
    m.entries.some(
      (e) =>
        (lossCondition(e) && aboutHer(e.resource, 'subject')) ||
        (e.resource.resourceType === 'Observation' &&
          stands(e.resource) &&
          aboutHer(e.resource, 'subject') &&
          anyIn(obj(e.resource.code), outcomeCodes) &&
          anyIn(obj(e.resource.valueCodeableConcept), lossCodes)),
    );
  const endedEpisode = m.entries.find(
    (e) =>
      e.resource.resourceType === 'EpisodeOfCare' &&
      (e.resource.status === 'finished' || e.resource.status === 'cancelled') &&
      objs(e.resource.type).some((t) => anyIn(t, episodeTypes)) &&
      objs(e.resource.diagnosis).some((d) => lossCondition(resolveReference(m.entries, str(obj(d.condition)?.reference)))),
  );
  if (reportedLoss || endedEpisode !== undefined) {
    if (nhs.value === undefined || hasFhirErrors(issues)) return { kind: 'invalid', issues };
    const lostId = firstIdentifier(endedEpisode?.resource) ?? pregnancyId;
    const event: AntenatalEvent = {
      kind: 'pregnancy-loss',
      motherNhsNumber: nhs.value.nhsNumber,
      ...(lostId !== undefined ? { pregnancyId: lostId } : {}),
      source,
    };
    return { kind: 'antenatal', event, issues };
  }
  if (isLossEvent) return { kind: 'not-relevant', reason: NO_LOSS_REASON, issues: [] };

  // A booking: the estimated due date.
  const dueCodes = keySet(rules.dueDate.observationCodes);
  const observation = m.entries.find(
    (e) =>
      e.resource.resourceType === 'Observation' &&
      stands(e.resource) &&
      anyIn(obj(e.resource.code), dueCodes) &&
      aboutHer(e.resource, 'subject'),
  );
  let due: string | undefined;
  if (observation !== undefined) {
    const at = `${observation.expression}.valueDateTime`;
    const v = observation.resource.valueDateTime;
    const read = dayOf(str(v));
    if (read.day !== undefined) due = read.day;
    else
      issues.push(
        v === undefined
          ? fhirIssue('required', 'The estimated due date Observation has no valueDateTime', at, { path: 'estimatedDueDate' })
          : fhirIssue('value', 'The estimated due date is not a valid date to the day (YYYY-MM-DD)', at, { path: 'estimatedDueDate' }),
      );
  } else {
    const urls = new Set(rules.dueDate.extensions ?? []);
    for (const e of [pregnancy, episode]) {
      if (e === undefined || due !== undefined) continue;
      const exts = objs(e.resource.extension);
      const i = exts.findIndex((x) => urls.has(str(x.url) ?? ''));
      const ext = exts[i];
      if (ext === undefined) continue;
      const element = ext.valueDate !== undefined ? 'valueDate' : 'valueDateTime';
      const read = dayOf(str(ext[element]));
      if (read.day !== undefined) due = read.day;
      else
        issues.push(
          fhirIssue(
            'value',
            'The estimated due date is not a valid date to the day (YYYY-MM-DD)',
            `${e.expression}.extension[${i}].${element}`,
            {
              path: 'estimatedDueDate',
            },
          ),
        );
    }
    if (due === undefined && !issues.some((i) => i.path === 'estimatedDueDate'))
      issues.push(
        fhirIssue(
          'required',
          `The estimated due date is missing: an Observation coded ${rules.dueDate.observationCodes.map((c) => c.code).join(' or ')} with valueDateTime`,
          'Bundle.entry.resource.ofType(Observation).valueDateTime',
          { path: 'estimatedDueDate' },
        ),
      );
  }
  if (nhs.value === undefined || due === undefined || hasFhirErrors(issues)) return { kind: 'invalid', issues };

  let confidentiality: Confidentiality = 'normal';
  for (const [r, at] of [
    [m.bundle, 'Bundle'] as const,
    ...[mother, episode, pregnancy].flatMap((e) => (e ? [[e.resource, e.expression] as const] : [])),
  ]) {
    const c = confidentialityOf(r, at, f.confidentiality);
    issues.push(...c.issues);
    if (c.value !== undefined && RANK[c.value] > RANK[confidentiality]) confidentiality = c.value;
  }
  const where = new Map<string, string>();
  const name = nameOf(p);
  const birthDate = str(p.birthDate);
  const address = addressOf(p, px, 'mother.address', issues, where);
  const phone = phoneOf(p);
  const language = languageOf(p);
  const expecting: ExpectingMother = {
    nhsNumber: nhs.value.nhsNumber,
    localIdentifiers: localIdentifiers(p, f.identifiers.nhsNumber),
    ...(name !== undefined ? { name } : {}),
    ...(birthDate !== undefined && dayOf(birthDate).day === birthDate ? { birthDate } : {}),
    ...(address !== undefined ? { address } : {}),
    ...(phone !== undefined ? { phone } : {}),
    ...(language !== undefined ? { preferredLanguage: language } : {}),
  };
  const gp = gpOf(m, p, mapping);
  const event: AntenatalEvent = {
    kind: 'antenatal-booking',
    booking: {
      mother: expecting,
      estimatedDueDate: due,
      ...(pregnancyId !== undefined ? { pregnancyId } : {}),
      ...(gp !== undefined ? { gpPractice: gp } : {}),
      confidentiality,
      source,
    },
  };
  // Her consents: map-consent reads them about a birth record; here she is the subject and there is no baby.
  const subject: BirthNotification = {
    baby: { localIdentifiers: [], birthDate: '', deceased: false },
    mother: { nhsNumber: expecting.nhsNumber, localIdentifiers: [] },
    confidentiality: 'normal',
    source: { format: 'fhir-r4', feedId: ctx.feedId, messageControlId: m.bundleId, event: source.event },
  };
  const carried = consentsOf(m, mother, subject); // a Consent about her: only her NHS number is recorded

  issues.push(...carried.issues);
  if (hasFhirErrors(issues)) return { kind: 'invalid', issues };
  if (carried.consents.length > 0) event.consents = carried.consents;
  return { kind: 'antenatal', event, issues };
}
