/**
 * Deciding whether an event fires a trigger (issue 17 item 2). Pure: the caller reads the family and chooses the
 * agreement of its area; this decides, builds the minimum dataset and the audit events.
 *
 * Order: the triggers whose value set holds one of the attendance's codes are the candidates (none: nothing to
 * decide). Then, for all of them at once: an NHS number is needed (a parent is known by it only), verified when the
 * message gives its status; the patient must lead a family with children; the family's local authority must have a
 * trigger agreement declaring a candidate trigger (else no lawful basis). Each trigger of that agreement whose value
 * set holds the code then fires, or, when the attendance or any child's record is restricted, is held for
 * safeguarding review. Every decision not to fire is audited once per candidate trigger.
 */
import type { AuditEventInput } from '../../ports/audit.js';
import {
  valueSetHoldsAny,
  type Attendance,
  type NotFiredReason,
  type Trigger,
  type TriggerAgreement,
  type TriggerChild,
  type TriggerDataset,
} from '../../domain/trigger.js';
import type { Address } from '../../domain/birth-notification.js';
import { localDateOf } from '../../domain/hl7-datetime.js';
import { agreementLabel } from '../consent/rulebook.js';

/** The family the patient leads, as evaluation needs it. */
export interface TriggerFamily {
  id: string;
  centre?: string;
  address?: Address;
  children: TriggerChild[];
  /** Any child's record is restricted or very restricted. */
  restricted: boolean;
}

/** A trigger with the agreement that declares it. */
export interface DeclaredTrigger {
  trigger: Trigger;
  agreement: TriggerAgreement;
}

/** A firing to store: delivered to the recipient's inbox, or held for safeguarding review. */
export interface Firing {
  id: string;
  status: 'delivered' | 'held';
  triggerId: string;
  triggerName: string;
  agreementId: string;
  agreementVersion: string;
  lawfulBasis: string;
  inbox: string;
  familyId: string;
  subjectNhsNumber: string;
  dataset: TriggerDataset;
  occurredAt: string;
}

export interface TriggerEvaluation {
  firings: Firing[];
  notFired: { triggerId: string; reason: NotFiredReason }[];
  audit: AuditEventInput[];
}

/** Candidate triggers: those (of every agreement) whose value set holds one of the attendance's codes. */
export function candidateTriggers(attendance: Attendance, all: readonly DeclaredTrigger[]): DeclaredTrigger[] {
  // Every trigger watches A&E attendances today (TriggerEventKind has one member): the value set decides.
  return all.filter((d) => valueSetHoldsAny(d.trigger.valueSet, attendance.reasons));
}

const ACTOR = 'system:worker';

function datasetOf(trigger: Trigger, attendance: Attendance, nhsNumber: string, family: TriggerFamily): TriggerDataset {
  const p = attendance.patient;
  const a = family.address;
  return {
    trigger: { id: trigger.id, name: trigger.name },
    parent: { ...(p.name ? { name: p.name } : {}), nhsNumber, ...(p.birthDate ? { birthDate: p.birthDate } : {}) },
    children: family.children,
    occurredOn: localDateOf(new Date(attendance.occurredAt)),
    ...(a
      ? {
          familyAddress: {
            lines: a.lines,
            ...(a.city !== undefined ? { city: a.city } : {}),
            ...(a.postcode ? { postcode: a.postcode } : {}),
          },
        }
      : {}),
  };
}

/**
 * Decides. `family` is the family the patient's NHS number leads (undefined: none); `areaAgreement` the trigger
 * agreement of that family's local authority (undefined: none). `at` is when it is decided.
 */
export function evaluateAttendance(input: {
  messageId: string;
  attendance: Attendance;
  candidates: readonly DeclaredTrigger[];
  family: TriggerFamily | undefined;
  areaAgreement: TriggerAgreement | undefined;
  at: Date;
  /** A new firing's id (a UUID). */
  newId: () => string;
}): TriggerEvaluation {
  const { messageId, attendance, candidates, family, areaAgreement, at, newId } = input;
  const out: TriggerEvaluation = { firings: [], notFired: [], audit: [] };
  if (candidates.length === 0) return out;
  const nhsNumber = attendance.patient.nhsNumber;
  const status = attendance.patient.nhsNumberStatus;
  const base = {
    at,
    actor: ACTOR,
    messageId,
    ...(nhsNumber !== undefined ? { subjectNhsNumber: nhsNumber } : {}),
  };
  const notFired = (d: DeclaredTrigger, reason: NotFiredReason, withBasis: boolean, extra: Record<string, unknown> = {}): void => {
    out.notFired.push({ triggerId: d.trigger.id, reason });
    out.audit.push({
      ...base,
      action: 'trigger-not-fired',
      ruleId: d.trigger.id,
      rulebookVersion: agreementLabel(d.agreement),
      ...(withBasis ? { lawfulBasis: d.trigger.lawfulBasis } : {}),
      outcome: reason,
      details: {
        role: 'system',
        purpose: 'processing',
        agreementId: d.agreement.id,
        valueSet: d.trigger.valueSet.id,
        event: attendance.source.event,
        feed: attendance.source.feedId,
        ...extra,
      },
    });
  };
  const unique = (list: readonly DeclaredTrigger[]): DeclaredTrigger[] =>
    list.filter((d, i) => list.findIndex((o) => o.trigger.id === d.trigger.id && o.agreement.id === d.agreement.id) === i);
  const all = unique(candidates);
  if (nhsNumber === undefined) {
    for (const d of all) notFired(d, 'no-nhs-number', true);
    return out;
  }
  if (status !== undefined && status !== '01') {
    for (const d of all) notFired(d, 'nhs-number-not-verified', true);
    return out;
  }
  if (family === undefined || family.children.length === 0) {
    for (const d of all) notFired(d, 'no-known-children', true, family ? { familyId: family.id, children: 0 } : {});
    return out;
  }
  const declared = areaAgreement ? areaAgreement.triggers.filter((t) => all.some((d) => d.trigger.id === t.id)) : [];
  if (areaAgreement === undefined || declared.length === 0) {
    for (const d of all)
      notFired(d, 'no-lawful-basis', false, { familyId: family.id, ...(areaAgreement ? { areaAgreement: areaAgreement.id } : {}) });
    return out;
  }
  const restricted = attendance.confidentiality !== 'normal' || family.restricted;
  for (const trigger of declared) {
    const d = { trigger, agreement: areaAgreement };
    if (trigger.nhsNumber === 'verified' && status === undefined) {
      notFired(d, 'nhs-number-not-verified', true, { familyId: family.id });
      continue;
    }
    const firing: Firing = {
      id: newId(),
      status: restricted ? 'held' : 'delivered',
      triggerId: trigger.id,
      triggerName: trigger.name,
      agreementId: areaAgreement.id,
      agreementVersion: agreementLabel(areaAgreement),
      lawfulBasis: trigger.lawfulBasis,
      inbox: trigger.recipient.inbox,
      familyId: family.id,
      subjectNhsNumber: nhsNumber,
      dataset: datasetOf(trigger, attendance, nhsNumber, family),
      occurredAt: attendance.occurredAt,
    };
    out.firings.push(firing);
    out.audit.push({
      ...base,
      action: restricted ? 'trigger-held' : 'trigger-fired',
      ruleId: trigger.id,
      rulebookVersion: firing.agreementVersion,
      lawfulBasis: trigger.lawfulBasis,
      ...(restricted ? { recipient: 'safeguarding-review' } : { recipient: trigger.recipient.inbox }),
      outcome: restricted ? 'held-for-safeguarding-review' : 'delivered',
      details: {
        role: 'system',
        purpose: 'safeguarding',
        firingId: firing.id,
        agreementId: areaAgreement.id,
        familyId: family.id,
        children: family.children.length,
        valueSet: trigger.valueSet.id,
        fields: Object.keys(firing.dataset),
        event: attendance.source.event,
        feed: attendance.source.feedId,
        ...(restricted ? { intendedRecipient: trigger.recipient.inbox } : {}),
      },
    });
  }
  return out;
}
