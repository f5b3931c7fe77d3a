/**
 * The HL7 v2 → canonical BirthNotification stage. Pure: text and a resolved mapping in, one of four
 * outcomes out, never an exception (a bug in the mapping code is the `internal` outcome; the caller logs
 * and counts it). The envelope (known sender, message type, version, processing id)
 * has been checked before this runs; here we decide whether the message describes a newborn, map it,
 * and validate the result so that, e.g., an NHS number failing its check digit quarantines the message
 * with an issue naming PID-3.
 */
import type { BirthNotification, Mother } from '../../domain/birth-notification.js';
import { InternalError } from '../../ports/errors.js';
import { daysBetweenDates, localDateOf, parseHl7DateTime, type Hl7DateTime } from '../../domain/hl7-datetime.js';
import { hasErrors, Hl7ErrorCode, type Hl7Location, type Issue } from '../../domain/issue.js';
import { normalisePostcode } from '../../domain/postcode.js';
import { validateNotification } from '../validate-notification.js';
import { applyRules, conditionHolds, type RuleResult } from './apply-rules.js';
import { Hl7Reader } from './hl7-reader.js';
import type { Hl7v2Mapping } from './build-mappings.js';
import { triggerEventOf } from './envelope.js';
import { mapIdentityEvent } from './map-identity-event.js';
import type { BackfillAdmission, BackfillMode, MapOutcome } from './map-outcome.js';
import { mapConsentSegments } from './map-consents.js';
import { isAntenatalTrigger, mapAntenatal } from './map-booking.js';
import { TARGET_NAMES, type KindValue, type TARGETS, type TargetName } from './mapping-types.js';

export type { MapOutcome };

/** Where the message came from: the feed it arrived on and when (the fallback "message time"). */
export interface MapContext {
  feedId: string;
  receivedAt: Date;
  /** The feed's back-fill mode, if the operator configured one (it applies only before its `until`). */
  backfill?: BackfillMode;
}

type Values = { [N in TargetName]?: KindValue[(typeof TARGETS)[N]['kind']] };

const err = (code: Hl7ErrorCode, message: string, location: Hl7Location, path?: string): Issue => ({
  severity: 'error',
  code,
  message,
  location,
  ...(path !== undefined ? { path } : {}),
});

/** The calendar date the message belongs to: MSH-7 when usable, else the receipt time (London dates). */
function messageDate(reader: Hl7Reader, receivedAt: Date): string {
  const msh = reader.segments('MSH')[0];
  const raw = msh === undefined ? undefined : reader.repetitions(msh, 7)[0]?.raw(1);
  const t = raw === undefined ? undefined : parseHl7DateTime(raw);
  if (t?.instant !== undefined) return localDateOf(new Date(t.instant));
  if (t?.precision === 'day') return t.date;
  return localDateOf(receivedAt);
}

/**
 * Maps one received message with a resolved mapping. Never throws: an exception here is a bug in Stork's
 * mapping code (or a mapping function), not a problem with the message, so it comes back as the `internal`
 * outcome carrying the error, for intake to log (without its message: it may quote the data) and count,
 * and the sender gets an AE. It is not hidden behind an ordinary `invalid`.
 */
export function mapHl7v2(text: string, mapping: Hl7v2Mapping, ctx: MapContext): MapOutcome {
  try {
    return mapOrThrow(text, mapping, ctx);
  } catch (error) {
    return { kind: 'internal', error: new InternalError(`mapping ${mapping.name} failed`, { cause: error }) };
  }
}

function mapOrThrow(text: string, mapping: Hl7v2Mapping, ctx: MapContext): MapOutcome {
  // Most of a whole-hospital ADT feed is not births: say so from MSH-9 before paying for a full parse.
  const event = triggerEventOf(text);
  const antenatal = mapping.antenatal;
  const isEventOfInterest = (e: string): boolean =>
    mapping.births.events.has(e) || mapping.births.deathEvents.has(e) || (antenatal !== undefined && isAntenatalTrigger(antenatal, e));
  // Identity events (A40 merges, A24 links) are mapped by their own module, whatever the patient's age.
  if (event !== undefined && !isEventOfInterest(event.trim().toUpperCase()) && !mapping.identity.events.has(event.trim().toUpperCase())) {
    return { kind: 'not-relevant', reason: 'not a birth event' };
  }
  const read = Hl7Reader.read(text, mapping.segments);
  if (!read.ok) return { kind: 'invalid', issues: [read.issue] };
  const reader = read.reader;

  const messageType = reader.first({ segment: 'MSH', field: 9, component: 1 });
  const trigger = reader.first({ segment: 'MSH', field: 9, component: 2 });
  if (messageType === undefined || trigger === undefined) {
    return {
      kind: 'invalid',
      issues: [err(Hl7ErrorCode.RequiredFieldMissing, 'MSH-9 message type is missing', { segment: 'MSH', field: 9 })],
    };
  }
  const triggerEvent = trigger.trim().toUpperCase();
  const identity = mapping.identity.events.get(triggerEvent);
  if (identity !== undefined)
    return mapIdentityEvent(text, identity, mapping.identity, { feedId: ctx.feedId, event: `${messageType.trim()}^${trigger.trim()}` });
  if (!isEventOfInterest(triggerEvent)) return { kind: 'not-relevant', reason: 'not a birth event' };
  // A maternity booking or a pregnancy loss (issue 17): mapped by its own module, before anything about a baby.
  if (antenatal !== undefined && isAntenatalTrigger(antenatal, triggerEvent))
    return mapAntenatal(reader, mapping, antenatal, {
      feedId: ctx.feedId,
      trigger: triggerEvent,
      event: `${messageType.trim()}^${trigger.trim()}`,
    });
  const deathReport = !mapping.births.events.has(triggerEvent);
  if (reader.segments('PID').length === 0) {
    return { kind: 'invalid', issues: [err(Hl7ErrorCode.SegmentSequence, 'PID segment is missing', { segment: 'PID' })] };
  }

  const issues: Issue[] = [];
  const locations = new Map<string, Hl7Location>();
  const values: Values = {};
  const results = new Map<TargetName, RuleResult<unknown>>();
  for (const target of TARGET_NAMES) {
    const r = applyRules(reader, target, mapping.fields.get(target), issues);
    results.set(target, r);
    if (r.found) {
      (values as Record<string, unknown>)[target] = r.found.value;
      locations.set(target, r.found.location);
    }
  }

  // An update or discharge reporting the baby's death: the worker then withdraws the notification already sent,
  // or records the death so that none ever is. Otherwise an update event (A08, A31) updates the notification of a
  // baby already notified; any other event (a discharge) is not relevant, whatever else is wrong with it.
  const reportsDeath = values['baby.deceased'] === true || (values['baby.deceased'] !== false && values['baby.deceasedAt'] !== undefined);
  const update = deathReport && !reportsDeath && mapping.births.updateEvents.has(triggerEvent);
  if (deathReport && !reportsDeath && !update) {
    return { kind: 'not-relevant', reason: 'update that reports no death' };
  }

  // Date of birth: required, at least to the day, for deciding "newborn" at all.
  const birthRule = mapping.fields.get('baby.birth')?.[0]?.path;
  const birthLoc: Hl7Location = { segment: birthRule?.segment ?? 'PID', field: birthRule?.field ?? 7 };
  const birth = values['baby.birth'];
  const birthResult = results.get('baby.birth');
  const invalidBirthAt = birthResult !== undefined && !birthResult.found ? birthResult.invalidAt : undefined;
  if (birth === undefined || birth.precision === 'year' || birth.precision === 'month') {
    const present = birth !== undefined || invalidBirthAt !== undefined;
    const issue = present
      ? err(Hl7ErrorCode.DataTypeError, 'date of birth is not a valid date to the day', invalidBirthAt ?? birthLoc, 'baby.birthDate')
      : err(Hl7ErrorCode.RequiredFieldMissing, 'date of birth is missing', birthLoc, 'baby.birthDate');
    return { kind: 'invalid', issues: [issue] };
  }

  const indicator = mapping.births.newbornIndicator;
  const flagged = indicator !== undefined && reader.segments(indicator.path.segment).some((s) => conditionHolds(reader, s, indicator));
  const window = deathReport ? mapping.births.deathWindowDays : mapping.births.maxAgeDays;
  const messageDay = messageDate(reader, ctx.receivedAt);
  if (!flagged && daysBetweenDates(birth.date, messageDay) > window) {
    return { kind: 'not-relevant', reason: 'subject is not a newborn' };
  }
  // A birth must still be a newborn's when it reaches Stork, or a late message (a replayed archive, a
  // sender's wrong clock) would offer support for a toddler. A death report is never late: it withdraws.
  let backfill: BackfillAdmission | undefined;
  if (!deathReport) {
    const receiptDay = localDateOf(ctx.receivedAt);
    const lateDays = Math.max(0, daysBetweenDates(messageDay, receiptDay));
    const stale = flagged ? lateDays > window : daysBetweenDates(birth.date, receiptDay) > window;
    if (stale) {
      const mode = ctx.backfill;
      if (mode === undefined || !(ctx.receivedAt.getTime() < Date.parse(mode.until))) {
        return {
          kind: 'not-relevant',
          reason:
            `subject was a newborn at the message time (MSH-7) but is not at receipt, ${lateDays} days later: ` +
            `a late or replayed message (a back-fill needs the feed's back-fill mode)`,
        };
      }
      backfill = { reason: mode.reason, until: mode.until, lateDays };
    }
  }

  const notification = assemble(reader, values, birth, locations, issues, ctx, `${messageType.trim()}^${trigger.trim()}`);
  if (update) notification.source.update = true;
  if (mapping.consents !== undefined) {
    const carried = mapConsentSegments(reader, mapping.consents, notification);
    issues.push(...carried.issues);
    if (carried.consents.length > 0) notification.consents = carried.consents;
  }
  const locate = (p: string): Hl7Location | undefined => locateIn(locations, p);
  issues.push(...validateNotification(notification, ctx.receivedAt, locate));
  if (hasErrors(issues)) return { kind: 'invalid', issues };
  return { kind: 'birth', notification, issues, ...(backfill ? { backfill } : {}) };
}

/** `baby.birthTime` → the `baby.birth` rule; `baby.address.postcode` → `baby.address`; and so on. */
function locateIn(locations: ReadonlyMap<string, Hl7Location>, p: string): Hl7Location | undefined {
  const alias = p === 'baby.birthDate' || p === 'baby.birthTime' ? 'baby.birth' : p;
  for (let key = alias; key !== ''; key = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '') {
    const loc = locations.get(key);
    if (loc !== undefined) return key === 'baby.address' || key === 'mother.address' ? withPostcode(loc, p) : loc;
  }
  if (p === 'source.messageControlId') return { segment: 'MSH', field: 10 };
  return undefined;
}

function withPostcode(loc: Hl7Location, p: string): Hl7Location {
  return p.endsWith('.postcode') ? { ...loc, component: 5 } : loc;
}

function dateOrInstant(t: Hl7DateTime): string | undefined {
  if (t.instant !== undefined) return t.instant;
  return t.precision === 'day' ? t.date : undefined;
}

/** Postcodes are normalised here; one that is not a UK postcode shape is dropped with a warning. */
function cleanPostcode<T extends { postcode?: string }>(a: T, path: string, loc: Hl7Location | undefined, issues: Issue[]): T {
  if (a.postcode === undefined) return a;
  const normalised = normalisePostcode(a.postcode);
  if (normalised !== undefined) return { ...a, postcode: normalised };
  const { postcode: _dropped, ...rest } = a;
  issues.push({
    severity: 'warning',
    code: Hl7ErrorCode.DataTypeError,
    message: `${path}: not a recognisable UK postcode; value ignored`,
    path,
    ...(loc ? { location: withPostcode(loc, path) } : {}),
  });
  return rest as T;
}

function assemble(
  reader: Hl7Reader,
  v: Values,
  birth: Hl7DateTime,
  locations: ReadonlyMap<string, Hl7Location>,
  issues: Issue[],
  ctx: MapContext,
  event: string,
): BirthNotification {
  const deathAt = v['baby.deceasedAt'];
  const deceased = v['baby.deceased'] ?? deathAt !== undefined;
  let deceasedAt = deathAt === undefined ? undefined : dateOrInstant(deathAt);
  if (deceasedAt !== undefined && !deceased) {
    issues.push({
      severity: 'warning',
      code: Hl7ErrorCode.DataTypeError,
      message: 'baby.deceasedAt: death date given but the death indicator says not deceased; value ignored',
      path: 'baby.deceasedAt',
      ...(locations.has('baby.deceasedAt') ? { location: locations.get('baby.deceasedAt') } : {}),
    });
    deceasedAt = undefined;
  }
  const babyAddress = v['baby.address'];
  const baby: BirthNotification['baby'] = {
    ...(v['baby.nhsNumber'] !== undefined ? { nhsNumber: v['baby.nhsNumber'] } : {}),
    ...(v['baby.nhsNumberStatus'] !== undefined
      ? { nhsNumberStatus: v['baby.nhsNumberStatus'] as BirthNotification['baby']['nhsNumberStatus'] }
      : {}),
    localIdentifiers: v['baby.localIdentifiers'] ?? [],
    ...(v['baby.name'] !== undefined ? { name: v['baby.name'] } : {}),
    ...(v['baby.sex'] !== undefined ? { sex: v['baby.sex'] as BirthNotification['baby']['sex'] } : {}),
    birthDate: birth.date,
    ...(birth.instant !== undefined ? { birthTime: birth.instant } : {}),
    ...(v['baby.multipleBirth'] !== undefined ? { multipleBirth: v['baby.multipleBirth'] } : {}),
    ...(v['baby.birthOrder'] !== undefined ? { birthOrder: v['baby.birthOrder'] } : {}),
    ...(v['baby.birthPlace'] !== undefined ? { birthPlace: v['baby.birthPlace'] } : {}),
    ...(babyAddress !== undefined
      ? { address: cleanPostcode(babyAddress, 'baby.address.postcode', locations.get('baby.address'), issues) }
      : {}),
    deceased,
    ...(deceasedAt !== undefined ? { deceasedAt } : {}),
  };

  const motherAddress = v['mother.address'];
  const motherBirth = v['mother.birthDate'];
  const mother: Mother = {
    ...(v['mother.nhsNumber'] !== undefined ? { nhsNumber: v['mother.nhsNumber'] } : {}),
    localIdentifiers: v['mother.localIdentifiers'] ?? [],
    ...(v['mother.name'] !== undefined ? { name: v['mother.name'] } : {}),
    ...(motherBirth !== undefined && motherBirth.precision !== 'year' && motherBirth.precision !== 'month'
      ? { birthDate: motherBirth.date }
      : {}),
    ...(motherAddress !== undefined
      ? { address: cleanPostcode(motherAddress, 'mother.address.postcode', locations.get('mother.address'), issues) }
      : {}),
    ...(v['mother.phone'] !== undefined ? { phone: v['mother.phone'] } : {}),
    ...(v['mother.preferredLanguage'] !== undefined ? { preferredLanguage: v['mother.preferredLanguage'] } : {}),
  };
  // A language alone (PID-15 fallback) does not make a mother: some identifying or contact detail must.
  const { localIdentifiers: _ids, preferredLanguage: _lang, ...identifying } = mother;
  const hasMother = Object.keys(identifying).length > 0 || mother.localIdentifiers.length > 0;

  const weight = v['birthDetails.weightGrams'];
  const gestation = v['birthDetails.gestationWeeks'];
  const gp = v.gpPractice;
  return {
    baby,
    ...(hasMother ? { mother } : {}),
    ...(gp !== undefined ? { gpPractice: gp } : {}),
    ...(weight !== undefined || gestation !== undefined
      ? {
          birthDetails: {
            ...(weight !== undefined ? { weightGrams: weight } : {}),
            ...(gestation !== undefined ? { gestationWeeks: gestation } : {}),
          },
        }
      : {}),
    confidentiality: (v.confidentiality as BirthNotification['confidentiality'] | undefined) ?? 'normal',
    source: {
      format: 'hl7v2',
      feedId: ctx.feedId,
      messageControlId: reader.first({ segment: 'MSH', field: 10 })?.trim() ?? '',
      event,
    },
  };
}
