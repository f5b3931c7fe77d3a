/**
 * FHIR R4 birth message → canonical BirthNotification, driven by a declarative mapping
 * (`mappings/fhir/*.json`). The baby is the Patient the MessageHeader focuses on (or the message's only
 * Patient); the mother a RelatedPerson of the baby with a mother relationship, and/or the bundle's other
 * Patient; birth weight and gestation are Observations about the baby. Safety flags are set exactly as the
 * HL7 v2 mapping sets them: `baby.deceased` (Patient.deceased[x]) and `confidentiality` (meta.security R/V on
 * the Bundle or any person in it). Pure: no I/O, never throws on input.
 */
import type {
  Address,
  BirthDetails,
  BirthNotification,
  Confidentiality,
  GpPractice,
  LocalIdentifier,
  Mother,
  PersonName,
} from '../../domain/birth-notification.js';
import { daysBetweenDates, localDateOf } from '../../domain/hl7-datetime.js';
import { normalisePostcode } from '../../domain/postcode.js';
import type { BackfillAdmission, BackfillMode } from '../hl7v2/map-outcome.js';
import { validateNotification } from '../validate-notification.js';
import { fhirIssue, fromCanonicalIssue, hasFhirErrors, type FhirIssue } from './fhir-issue.js';
import { codingKey, type FhirMapping, type ObservationRule } from './fhir-mapping.js';
import type { JsonObject } from './fhir-xml.js';
import { list, num, obj, objs, str } from './json-access.js';
import { resolveReference, type BundleEntry, type MessageBundle } from './message-bundle.js';
import { consentsOf } from './map-consent.js';
import { birthTimeOf, confidentialityOf, genderOf, nhsNumberOf } from './uk-core-checks.js';

export type FhirMapOutcome =
  | { kind: 'birth'; notification: BirthNotification; issues: FhirIssue[]; backfill?: BackfillAdmission }
  | { kind: 'not-relevant'; reason: string; issues: FhirIssue[] }
  | { kind: 'invalid'; issues: FhirIssue[] };

export interface FhirMapContext {
  feedId: string;
  receivedAt: Date;
  backfill?: BackfillMode;
}

const RANK: Record<Confidentiality, number> = { normal: 0, restricted: 1, 'very-restricted': 2 };

export function mapFhirBirth(message: MessageBundle, mapping: FhirMapping, ctx: FhirMapContext): FhirMapOutcome {
  const issues: FhirIssue[] = [];
  const where = new Map<string, string>();
  const f = mapping.file;
  const patients = message.entries.filter((e) => e.resource.resourceType === 'Patient');
  const focus = objs(message.header.focus)
    .map((r) => resolveReference(message.entries, str(r.reference)))
    .filter((e): e is BundleEntry => e?.resource.resourceType === 'Patient');
  if (focus.length > 1)
    return invalid(
      fhirIssue('not-supported', 'One baby per message: MessageHeader.focus names more than one Patient', 'Bundle.entry[0].resource.focus'),
    );
  const baby = focus[0] ?? (patients.length === 1 ? patients[0] : undefined);
  if (!baby)
    return invalid(
      fhirIssue(
        'required',
        "The baby must be a Patient named by MessageHeader.focus (or the message's only Patient)",
        'Bundle.entry[0].resource.focus',
      ),
    );
  const b = baby.resource;
  const bx = baby.expression;

  const birthDate = str(b.birthDate);
  if (birthDate === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate) || Number.isNaN(Date.parse(birthDate))) {
    return invalid(
      b.birthDate === undefined
        ? fhirIssue('required', "The baby's birthDate is missing", `${bx}.birthDate`, { path: 'baby.birthDate' })
        : fhirIssue('value', "The baby's birthDate is not a full date (YYYY-MM-DD)", `${bx}.birthDate`, { path: 'baby.birthDate' }),
    );
  }
  where.set('baby.birthDate', `${bx}.birthDate`);

  // Safety flags first: deceased and confidentiality decide what may ever be shared.
  const deceasedAt = str(b.deceasedDateTime);
  const deceased = b.deceasedBoolean === true || deceasedAt !== undefined;
  if (b.deceasedBoolean !== undefined && typeof b.deceasedBoolean !== 'boolean')
    issues.push(fhirIssue('value', 'deceasedBoolean must be true or false', `${bx}.deceasedBoolean`));
  let confidentiality: Confidentiality = 'normal';
  const people = message.entries.filter((e) => e.resource.resourceType === 'Patient' || e.resource.resourceType === 'RelatedPerson');
  for (const [res, at] of [[message.bundle, 'Bundle'] as const, ...people.map((p) => [p.resource, p.expression] as const)]) {
    const c = confidentialityOf(res, at, f.confidentiality);
    issues.push(...c.issues);
    if (c.value !== undefined && RANK[c.value] > RANK[confidentiality]) confidentiality = c.value;
  }

  // An update event (the mapping's updateEvents) about a live baby: its values replace those of the baby's
  // notification, if Stork has one; like a death, it is looked for up to deathWindowDays and is never late.
  const update = !deceased && mapping.updateEvents.has(codingKey(message.event));
  // Newborn: at the message's own time (Bundle.timestamp, else receipt) and at receipt. A death is never late.
  const messageDay = message.timestamp !== undefined ? localDateOf(new Date(message.timestamp)) : localDateOf(ctx.receivedAt);
  const window = deceased || update ? f.births.deathWindowDays : f.births.maxAgeDays;
  if (daysBetweenDates(birthDate, messageDay) > window) return { kind: 'not-relevant', reason: 'subject is not a newborn', issues: [] };
  let backfill: BackfillAdmission | undefined;
  if (!deceased && !update) {
    const receiptDay = localDateOf(ctx.receivedAt);
    if (daysBetweenDates(birthDate, receiptDay) > window) {
      const lateDays = Math.max(0, daysBetweenDates(messageDay, receiptDay));
      const mode = ctx.backfill;
      if (mode === undefined || !(ctx.receivedAt.getTime() < Date.parse(mode.until)))
        return {
          kind: 'not-relevant',
          reason:
            `subject was a newborn at the message time (Bundle.timestamp) but is not at receipt, ${lateDays} days later: ` +
            `a late or replayed message (a back-fill needs the feed's back-fill mode)`,
          issues: [],
        };
      backfill = { reason: mode.reason, until: mode.until, lateDays };
    }
  }

  const nhs = nhsNumberOf(b, bx, { nhsNumber: f.identifiers.nhsNumber, verificationStatusUrl: f.extensions.nhsNumberVerificationStatus });
  issues.push(...tagged(nhs.issues, 'baby.nhsNumber'));
  const gender = genderOf(b, bx);
  issues.push(...gender.issues);
  const birthTime = birthTimeOf(b, bx, f.extensions.birthTime, birthDate);
  issues.push(...tagged(birthTime.issues, 'baby.birthTime'));
  if (birthTime.value !== undefined) where.set('baby.birthTime', `${bx}.birthDate.extension`);

  const babyRecord: BirthNotification['baby'] = {
    localIdentifiers: localIdentifiers(b, f.identifiers.nhsNumber),
    birthDate,
    deceased,
  };
  if (nhs.value) {
    babyRecord.nhsNumber = nhs.value.nhsNumber;
    where.set('baby.nhsNumber', nhs.value.expression);
    if (nhs.value.status !== undefined) babyRecord.nhsNumberStatus = nhs.value.status;
  }
  const name = nameOf(b);
  if (name) babyRecord.name = name;
  if (gender.value !== undefined) babyRecord.sex = gender.value;
  if (birthTime.value !== undefined) babyRecord.birthTime = birthTime.value;
  const order = num(b.multipleBirthInteger);
  if (order !== undefined) {
    if (Number.isInteger(order) && order >= 1 && order <= 16) {
      babyRecord.birthOrder = order;
      if (order > 1) babyRecord.multipleBirth = true;
      where.set('baby.birthOrder', `${bx}.multipleBirthInteger`);
    } else
      issues.push(
        fhirIssue('value', 'multipleBirthInteger must be a birth order from 1 to 16', `${bx}.multipleBirthInteger`, {
          severity: 'warning',
        }),
      );
  }
  if (typeof b.multipleBirthBoolean === 'boolean') babyRecord.multipleBirth = b.multipleBirthBoolean;
  const place = objs(b.extension).find((e) => str(e.url) === f.extensions.birthPlace);
  const placeText = place ? addressText(obj(place.valueAddress)) : undefined;
  if (placeText !== undefined) babyRecord.birthPlace = placeText;
  const babyAddress = addressOf(b, bx, 'baby.address', issues, where);
  if (babyAddress) babyRecord.address = babyAddress;
  if (deceased) {
    if (deceasedAt !== undefined) {
      if (
        /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(deceasedAt) &&
        !Number.isNaN(Date.parse(deceasedAt))
      ) {
        babyRecord.deceasedAt = deceasedAt;
        where.set('baby.deceasedAt', `${bx}.deceasedDateTime`);
      } else
        issues.push(
          fhirIssue('value', 'deceasedDateTime is not a valid dateTime; the death is recorded without its time', `${bx}.deceasedDateTime`, {
            severity: 'warning',
          }),
        );
    }
  }

  const notification: BirthNotification = {
    baby: babyRecord,
    confidentiality,
    source: {
      format: 'fhir-r4',
      feedId: ctx.feedId,
      messageControlId: message.bundleId,
      event: eventName(message),
      ...(update ? { update: true } : {}),
    },
  };
  const mother = motherOf(message, baby, mapping, issues, where);
  if (mother) notification.mother = mother;
  const gp = gpOf(message, b, mapping);
  if (gp) notification.gpPractice = gp;
  const details = birthDetailsOf(message, baby, mapping, issues, where, (multiple) => {
    babyRecord.multipleBirth ??= multiple;
  });
  if (details) notification.birthDetails = details;
  const carried = consentsOf(message, baby, notification);
  issues.push(...carried.issues);
  if (carried.consents.length > 0) notification.consents = carried.consents;

  issues.push(...validateNotification(notification, ctx.receivedAt).map((i) => fromCanonicalIssue(i, (p) => locate(where, p))));
  if (hasFhirErrors(issues)) return { kind: 'invalid', issues };
  return { kind: 'birth', notification, issues, ...(backfill ? { backfill } : {}) };
}

const invalid = (issue: FhirIssue): FhirMapOutcome => ({ kind: 'invalid', issues: [issue] });
const tagged = (issues: FhirIssue[], path: string): FhirIssue[] => issues.map((i) => ({ ...i, path }));

/** `baby.address.postcode` is found where `baby.address` was read, and so on up. */
function locate(where: ReadonlyMap<string, string>, path: string): string | undefined {
  for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const e = where.get(p);
    if (e !== undefined) return e;
  }
  return undefined;
}

function eventName(m: MessageBundle): string {
  const reason = objs(obj(m.header.reason)?.coding)
    .map((c) => str(c.code))
    .find((c) => c !== undefined);
  return [m.event.code ?? 'unknown', reason].filter((x) => x !== undefined).join('^');
}

/**
 * A person's name (the official one, else the first not marked old, else the first): family and given names, and the
 * prefix unless `{ prefix: false }` (an attendance keeps family and given names only, as its HL7 v2 form does).
 */
export function nameOf(r: JsonObject, { prefix: withPrefix = true }: { prefix?: boolean } = {}): PersonName | undefined {
  const names = objs(r.name);
  const n = names.find((x) => x.use === 'official') ?? names.find((x) => x.use !== 'old') ?? names[0];
  if (!n) return undefined;
  const out: PersonName = {};
  const family = str(n.family);
  if (family !== undefined && family.trim() !== '') out.family = family;
  const given = list(n.given).flatMap((g) => (typeof g === 'string' && g.trim() !== '' ? [g] : []));
  if (given.length > 0) out.given = given;
  const prefix = withPrefix ? list(n.prefix).find((p): p is string => typeof p === 'string') : undefined;
  if (prefix !== undefined) out.prefix = prefix;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function localIdentifiers(r: JsonObject, nhsSystem: string): LocalIdentifier[] {
  return objs(r.identifier).flatMap((id) => {
    const value = str(id.value);
    if (value === undefined || str(id.system) === nhsSystem) return [];
    const out: LocalIdentifier = { value };
    const assigner = str(obj(obj(id.assigner)?.identifier)?.value);
    if (assigner !== undefined) out.assigner = assigner;
    const type = objs(obj(id.type)?.coding)
      .map((c) => str(c.code))
      .find((c) => c !== undefined);
    if (type !== undefined) out.type = type;
    return [out];
  });
}

function addressText(a: JsonObject | undefined): string | undefined {
  if (!a) return undefined;
  const text = str(a.text);
  if (text !== undefined && text.trim() !== '') return text;
  const parts = [...list(a.line), a.city, a.district].filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** The home address (else the first that is not old or billing), postcode normalised (unrecognisable: warned and dropped). */
export function addressOf(r: JsonObject, at: string, path: string, issues: FhirIssue[], where: Map<string, string>): Address | undefined {
  const all = objs(r.address);
  const usable = all.filter((a) => a.use !== 'old' && a.use !== 'billing');
  const a = usable.find((x) => x.use === 'home') ?? usable[0];
  if (!a) return undefined;
  const expression = `${at}.address[${all.indexOf(a)}]`;
  where.set(path, expression);
  const out: Address = { lines: list(a.line).filter((l): l is string => typeof l === 'string' && l.trim() !== '') };
  const city = str(a.city);
  if (city !== undefined) out.city = city;
  const county = str(a.district) ?? str(a.state);
  if (county !== undefined) out.county = county;
  const country = str(a.country);
  if (country !== undefined) out.country = country;
  const postcode = str(a.postalCode);
  if (postcode !== undefined) {
    const normalised = normalisePostcode(postcode);
    if (normalised !== undefined) out.postcode = normalised;
    else
      issues.push(
        fhirIssue('value', `${path}.postcode: not a recognisable UK postcode; value ignored`, `${expression}.postalCode`, {
          severity: 'warning',
          path: `${path}.postcode`,
        }),
      );
  }
  return out;
}

export function phoneOf(r: JsonObject): string | undefined {
  const phones = objs(r.telecom).filter((t) => t.system === 'phone' && t.use !== 'old');
  return str((phones.find((t) => t.use === 'mobile') ?? phones.find((t) => t.use === 'home') ?? phones[0])?.value);
}

export function languageOf(r: JsonObject): string | undefined {
  const comms = objs(r.communication);
  const c = comms.find((x) => x.preferred === true) ?? comms[0];
  return str(objs(obj(c?.language)?.coding)[0]?.code);
}

/**
 * The mother: a RelatedPerson whose patient is the baby with a mother relationship, and/or the bundle's one
 * other Patient. Both given: the Patient's identity and details, the RelatedPerson filling gaps.
 */
function motherOf(
  m: MessageBundle,
  baby: BundleEntry,
  mapping: FhirMapping,
  issues: FhirIssue[],
  where: Map<string, string>,
): Mother | undefined {
  const related = m.entries.find(
    (e) =>
      e.resource.resourceType === 'RelatedPerson' &&
      resolveReference(m.entries, str(obj(e.resource.patient)?.reference)) === baby &&
      objs(e.resource.relationship).some((r) => objs(r.coding).some((c) => mapping.motherRelationships.has(codingKey(c)))),
  );
  const others = m.entries.filter((e) => e.resource.resourceType === 'Patient' && e !== baby);
  if (others.length > 1) {
    issues.push(
      fhirIssue('not-supported', 'More than one Patient besides the baby: the mother cannot be told apart', others[1]?.expression, {
        path: 'mother',
      }),
    );
    return undefined;
  }
  const sources = [others[0], related].filter((e): e is BundleEntry => e !== undefined);
  if (sources.length === 0) return undefined;
  const mother: Mother = { localIdentifiers: [] };
  const f = mapping.file;
  for (const s of sources) {
    const r = s.resource;
    if (mother.nhsNumber === undefined) {
      const nhs = nhsNumberOf(r, s.expression, {
        nhsNumber: f.identifiers.nhsNumber,
        verificationStatusUrl: f.extensions.nhsNumberVerificationStatus,
      });
      issues.push(...tagged(nhs.issues, 'mother.nhsNumber'));
      if (nhs.value) {
        mother.nhsNumber = nhs.value.nhsNumber;
        where.set('mother.nhsNumber', nhs.value.expression);
      }
    }
    if (mother.localIdentifiers.length === 0) mother.localIdentifiers = localIdentifiers(r, f.identifiers.nhsNumber);
    const name = nameOf(r);
    if (mother.name === undefined && name) mother.name = name;
    const birthDate = str(r.birthDate);
    if (mother.birthDate === undefined && birthDate !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(birthDate)) {
      mother.birthDate = birthDate;
      where.set('mother.birthDate', `${s.expression}.birthDate`);
    }
    if (mother.address === undefined) {
      const a = addressOf(r, s.expression, 'mother.address', issues, where);
      if (a) mother.address = a;
    }
    const phone = phoneOf(r);
    if (mother.phone === undefined && phone !== undefined) mother.phone = phone;
    const lang = languageOf(r);
    if (mother.preferredLanguage === undefined && lang !== undefined) mother.preferredLanguage = lang;
  }
  return mother;
}

/** The baby's registered GP practice: generalPractitioner, as an Organization in the bundle or a logical reference by ODS code. */
export function gpOf(m: MessageBundle, baby: JsonObject, mapping: FhirMapping): GpPractice | undefined {
  const ods = mapping.file.identifiers.odsOrganisation;
  for (const ref of objs(baby.generalPractitioner)) {
    const logical = obj(ref.identifier);
    const logicalCode = logical && str(logical.system) === ods ? str(logical.value) : undefined;
    if (logicalCode !== undefined) {
      const gp: GpPractice = { odsCode: logicalCode };
      const display = str(ref.display);
      if (display !== undefined) gp.name = display;
      return gp;
    }
    const org = resolveReference(m.entries, str(ref.reference));
    if (org?.resource.resourceType !== 'Organization') continue;
    const code = objs(org.resource.identifier).find((i) => str(i.system) === ods);
    const value = str(code?.value);
    if (value === undefined) continue;
    const gp: GpPractice = { odsCode: value };
    const name = str(org.resource.name);
    if (name !== undefined) gp.name = name;
    return gp;
  }
  return undefined;
}

/** Birth weight (grams) and gestation (weeks) from final/amended Observations about the baby; number of births → multipleBirth. */
function birthDetailsOf(
  m: MessageBundle,
  baby: BundleEntry,
  mapping: FhirMapping,
  issues: FhirIssue[],
  where: Map<string, string>,
  setMultiple: (multiple: boolean) => void,
): BirthDetails | undefined {
  const details: BirthDetails = {};
  const f = mapping.file;
  for (const e of m.entries) {
    const o = e.resource;
    if (o.resourceType !== 'Observation') continue;
    const subject = str(obj(o.subject)?.reference);
    if (subject !== undefined && resolveReference(m.entries, subject) !== baby) continue;
    if (o.status === 'entered-in-error' || o.status === 'cancelled') continue;
    const keys = objs(obj(o.code)?.coding).map(codingKey);
    const is = (set: ReadonlySet<string>) => keys.some((k) => set.has(k));
    if (is(mapping.numberOfBirths)) {
      const n = num(obj(o.valueQuantity)?.value) ?? num(o.valueInteger);
      if (n !== undefined) setMultiple(n > 1);
      continue;
    }
    const which = is(mapping.birthWeight) ? 'weightGrams' : is(mapping.gestation) ? 'gestationWeeks' : undefined;
    if (which === undefined) continue;
    const rule: ObservationRule = which === 'weightGrams' ? f.observations.birthWeight : f.observations.gestation;
    const q = obj(o.valueQuantity);
    const at = `${e.expression}.valueQuantity`;
    const value = num(q?.value);
    const unit = str(q?.code) ?? str(q?.unit);
    const factor = unit !== undefined ? rule.units[unit] : undefined;
    if (value === undefined || factor === undefined) {
      issues.push(
        fhirIssue(
          value === undefined ? 'required' : 'code-invalid',
          value === undefined
            ? `birthDetails.${which}: the Observation has no valueQuantity; value ignored`
            : `birthDetails.${which}: unit ${unit ?? '(none)'} is not one of ${Object.keys(rule.units).join(', ')}; value ignored`,
          value === undefined ? at : `${at}.code`,
          { severity: 'warning', path: `birthDetails.${which}` },
        ),
      );
      continue;
    }
    details[which] = Math.round(value * factor * 100) / 100;
    where.set(`birthDetails.${which}`, `${at}.value`);
  }
  return Object.keys(details).length > 0 ? details : undefined;
}
