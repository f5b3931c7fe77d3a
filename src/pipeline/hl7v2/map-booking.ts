/**
 * HL7 v2 maternity bookings and pregnancy losses → the canonical AntenatalEvent (src/domain/antenatal-notification.ts),
 * as a mapping file's `antenatal` section says (issue 17 item 1). The booking's patient (PID) is the mother: her
 * details come from the mapping's own `mother.*` field rules (a booking mapping points them at PID), her GP and
 * restriction from `gpPractice` and `confidentiality`, the consents she gave from the mapping's `consents` section
 * (a CON segment with scope ANTENATAL is her consent to antenatal contact, recorded in the register as processing
 * starts). The section names:
 * - `bookingEvents`: trigger events (MSH-9.2) that are a booking, e.g. `S12` (SIU, the booking appointment) or `A05`;
 * - `dueDate`: where the estimated due date is, e.g. OBX-5 of the OBX whose OBX-3.1 is LOINC `11778-8`, or PV2-…;
 * - `pregnancyId` (optional): the sender's id of the pregnancy (e.g. PV1-19 visit number), to tell pregnancies apart;
 * - `lossEvents`: events that always report the pregnancy ended (e.g. `A38` cancel pre-admit, as the trust sends it);
 * - `outcome` (optional): a coded outcome on `outcome.events` (e.g. A08) whose code in `lossCodes` reports a loss.
 * Pure; never throws for a message (the caller turns an exception into its `internal` outcome).
 */
import type { AntenatalEvent, AntenatalSource, ExpectingMother } from '../../domain/antenatal-notification.js';
import type { BirthNotification } from '../../domain/birth-notification.js';
import { parseHl7DateTime } from '../../domain/hl7-datetime.js';
import { Hl7ErrorCode, type Hl7Location, type Issue } from '../../domain/issue.js';
import { parseNhsNumber } from '../../domain/nhs-number.js';
import { normalisePostcode } from '../../domain/postcode.js';
import { applyRules, conditionHolds } from './apply-rules.js';
import type { Hl7v2Mapping } from './build-mappings.js';
import type { FieldPath, Hl7Reader, SegmentRef } from './hl7-reader.js';
import { mapConsentSegments } from './map-consents.js';
import type { MapOutcome } from './map-outcome.js';
import type { CompiledBookingSpec, CompiledLocated } from './booking-spec.js';

/** Whether the trigger event is one the section maps (a booking, a loss, or an event that may carry a coded outcome). */
export function isAntenatalTrigger(spec: CompiledBookingSpec, event: string): boolean {
  return spec.bookingEvents.has(event) || spec.lossEvents.has(event) || spec.outcome?.events.has(event) === true;
}

const error = (code: Hl7ErrorCode, message: string, location: Hl7Location, path?: string): Issue => ({
  severity: 'error',
  code,
  message,
  location,
  ...(path !== undefined ? { path } : {}),
});

const where = (p: FieldPath): Hl7Location => ({
  segment: p.segment,
  field: p.field,
  ...(p.component !== undefined ? { component: p.component } : {}),
});

/** The value at a located place: the first occurrence of its segment that the condition selects, first repetition. */
function read(reader: Hl7Reader, v: CompiledLocated): { raw?: string; text?: string; seg?: SegmentRef } {
  const cond = v.segmentWhere;
  const seg = reader.segments(v.path.segment).find((s) => cond === undefined || conditionHolds(reader, s, cond));
  if (seg === undefined) return {};
  const rep = reader.repetitions(seg, v.path.field)[0];
  const raw = rep?.raw(v.path.component ?? 1);
  const text = rep?.value(v.path.component ?? 1, v.path.subComponent)?.trim();
  return { ...(raw !== undefined ? { raw } : {}), ...(text !== undefined && text !== '' ? { text } : {}), seg };
}

/** The mother (the booking's patient) from the mapping's `mother.*` rules; errors and warnings go to `issues`. */
function motherOf(reader: Hl7Reader, mapping: Hl7v2Mapping, issues: Issue[]): ExpectingMother | undefined {
  const nhsRules = mapping.fields.get('mother.nhsNumber');
  const nhs = applyRules(reader, 'mother.nhsNumber', nhsRules, issues);
  const at = nhs.found?.location ?? { segment: nhsRules?.[0]?.path.segment ?? 'PID', field: nhsRules?.[0]?.path.field ?? 3 };
  if (nhs.found === undefined) {
    issues.push(error(Hl7ErrorCode.RequiredFieldMissing, "the mother's NHS number is missing", at, 'mother.nhsNumber'));
    return undefined;
  }
  const parsed = parseNhsNumber(nhs.found.value);
  if (!parsed.ok) {
    const why = parsed.reason === 'shape' ? 'is not ten digits' : 'fails its check digit';
    issues.push(error(Hl7ErrorCode.DataTypeError, `the mother's NHS number ${why}`, at, 'mother.nhsNumber'));
    return undefined;
  }
  const name = applyRules(reader, 'mother.name', mapping.fields.get('mother.name'), issues).found?.value;
  const birth = applyRules(reader, 'mother.birthDate', mapping.fields.get('mother.birthDate'), issues).found?.value;
  const address = applyRules(reader, 'mother.address', mapping.fields.get('mother.address'), issues).found?.value;
  const phone = applyRules(reader, 'mother.phone', mapping.fields.get('mother.phone'), issues).found?.value;
  const language = applyRules(reader, 'mother.preferredLanguage', mapping.fields.get('mother.preferredLanguage'), issues).found?.value;
  const ids = applyRules(reader, 'mother.localIdentifiers', mapping.fields.get('mother.localIdentifiers'), issues).found?.value;
  const postcode = address?.postcode === undefined ? undefined : normalisePostcode(address.postcode);
  if (address?.postcode !== undefined && postcode === undefined)
    issues.push({
      severity: 'warning',
      code: Hl7ErrorCode.DataTypeError,
      message: 'mother.address.postcode: not a recognisable UK postcode; value ignored',
      path: 'mother.address.postcode',
    });
  const { postcode: _sent, ...rest } = address ?? { lines: [] };
  return {
    nhsNumber: parsed.value,
    localIdentifiers: ids ?? [],
    ...(name !== undefined ? { name } : {}),
    ...(birth !== undefined && birth.precision !== 'year' && birth.precision !== 'month' ? { birthDate: birth.date } : {}),
    ...(address !== undefined ? { address: { ...rest, ...(postcode !== undefined ? { postcode } : {}) } } : {}),
    ...(phone !== undefined ? { phone } : {}),
    ...(language !== undefined ? { preferredLanguage: language } : {}),
  };
}

/**
 * Maps a message whose trigger event the `antenatal` section names. `event` is `SIU^S12` as sent. A booking without
 * the mother's NHS number or a usable due date is invalid (AE naming the field); a loss without the mother's NHS
 * number likewise; an outcome event whose outcome is not a loss code is not relevant.
 */
export function mapAntenatal(
  reader: Hl7Reader,
  mapping: Hl7v2Mapping,
  spec: CompiledBookingSpec,
  ctx: { feedId: string; trigger: string; event: string },
): MapOutcome {
  const source: AntenatalSource = {
    feedId: ctx.feedId,
    format: 'hl7v2',
    messageControlId: reader.first({ segment: 'MSH', field: 10 })?.trim() ?? '',
    event: ctx.event,
  };
  if (reader.segments('PID').length === 0)
    return { kind: 'invalid', issues: [error(Hl7ErrorCode.SegmentSequence, 'PID segment is missing', { segment: 'PID' })] };
  const issues: Issue[] = [];
  const pregnancyId = spec.pregnancyId === undefined ? undefined : read(reader, spec.pregnancyId).text;
  const isLoss =
    spec.lossEvents.has(ctx.trigger) ||
    (spec.outcome !== undefined &&
      spec.outcome.events.has(ctx.trigger) &&
      spec.outcome.lossCodes.has((read(reader, spec.outcome).text ?? '').toUpperCase()));
  if (!isLoss && !spec.bookingEvents.has(ctx.trigger)) return { kind: 'not-relevant', reason: 'antenatal outcome that reports no loss' };
  const mother = motherOf(reader, mapping, issues);
  if (isLoss) {
    if (mother === undefined) return { kind: 'invalid', issues };
    const event: AntenatalEvent = {
      kind: 'pregnancy-loss',
      motherNhsNumber: mother.nhsNumber,
      ...(pregnancyId !== undefined ? { pregnancyId } : {}),
      source,
    };
    return { kind: 'antenatal', event, issues };
  }
  const due = read(reader, spec.dueDate);
  const parsed = due.raw === undefined ? undefined : parseHl7DateTime(due.raw.trim());
  if (parsed === undefined || parsed.precision === 'year' || parsed.precision === 'month') {
    const present = due.raw !== undefined && due.raw.trim() !== '';
    issues.push(
      error(
        present ? Hl7ErrorCode.DataTypeError : Hl7ErrorCode.RequiredFieldMissing,
        present ? 'the estimated due date is not a valid date to the day' : 'the estimated due date is missing',
        where(spec.dueDate.path),
        'estimatedDueDate',
      ),
    );
  }
  if (mother === undefined || parsed === undefined || issues.some((i) => i.severity === 'error')) return { kind: 'invalid', issues };
  const gp = applyRules(reader, 'gpPractice', mapping.fields.get('gpPractice'), issues).found?.value;
  const confidentiality = applyRules(reader, 'confidentiality', mapping.fields.get('confidentiality'), issues).found?.value;
  const booking = {
    mother,
    estimatedDueDate: parsed.date,
    ...(pregnancyId !== undefined ? { pregnancyId } : {}),
    ...(gp !== undefined ? { gpPractice: gp } : {}),
    confidentiality: (confidentiality as BirthNotification['confidentiality'] | undefined) ?? 'normal',
    source,
  };
  const event: AntenatalEvent = { kind: 'antenatal-booking', booking };
  if (mapping.consents !== undefined) {
    // The consents section reads the subject from a birth record: here the mother is the subject, and there is no baby.
    const subject: BirthNotification = {
      baby: { localIdentifiers: [], birthDate: '', deceased: false },
      mother: { nhsNumber: mother.nhsNumber, localIdentifiers: [] },
      confidentiality: 'normal',
      source: { format: 'hl7v2', feedId: ctx.feedId, messageControlId: source.messageControlId, event: ctx.event },
    };
    const carried = mapConsentSegments(reader, mapping.consents, subject);
    issues.push(...carried.issues);
    if (issues.some((i) => i.severity === 'error')) return { kind: 'invalid', issues };
    if (carried.consents.length > 0) event.consents = carried.consents;
  }
  return { kind: 'antenatal', event, issues };
}
