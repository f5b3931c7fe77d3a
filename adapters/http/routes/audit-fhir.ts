/**
 * The audit trail as FHIR R4 `AuditEvent` resources in a `searchset` Bundle (issue 14 item 3), after the IHE
 * Basic Audit Log Patterns (BALP): reads and queries are RESTful operations (`rest` with the FHIR interaction as
 * subtype, action R or E); receipt is a DICOM Import (110107), a disclosure to a centre an Export (110106),
 * sign-in failures User Authentication (110114, subtype Login 110122), configuration loads Application Activity
 * (110100, subtype Application Start 110120), and every other step of a birth a Patient Record event (110110).
 * Every resource also carries Stork's own event type (the audit action) as a second subtype, so nothing is lost.
 */
import type { AuditEvent } from '../../../src/ports/audit.js';

export const STORK_AUDIT_ACTION_SYSTEM = 'https://stork.nhs.example/fhir/CodeSystem/audit-action';
export const STORK_ROLE_SYSTEM = 'https://stork.nhs.example/fhir/CodeSystem/actor-role';
export const STORK_ACTOR_SYSTEM = 'https://stork.nhs.example/Id/actor';
export const STORK_INBOX_SYSTEM = 'https://stork.nhs.example/Id/inbox';
export const STORK_NOTIFICATION_SYSTEM = 'https://stork.nhs.example/Id/notification';
export const STORK_MESSAGE_SYSTEM = 'https://stork.nhs.example/Id/message';
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const SECURITY_ROLE = 'http://terminology.hl7.org/CodeSystem/extra-security-role-type';

interface Coding {
  system: string;
  code: string;
  display?: string;
}
type Json = Record<string, unknown>;

/** BALP's event type and subtype of each action. */
function typeOf(e: AuditEvent): { type: Coding; subtype: Coding[]; action: 'C' | 'R' | 'U' | 'D' | 'E' } {
  const own: Coding = { system: STORK_AUDIT_ACTION_SYSTEM, code: e.action };
  const query = typeof e.details?.query === 'string';
  switch (e.action) {
    case 'read':
    case 'raw-read':
    case 'exported':
      return query || e.action === 'exported'
        ? {
            type: { system: EVENT_TYPE, code: 'rest', display: 'Restful Operation' },
            subtype: [{ system: RESTFUL, code: 'search-type', display: 'search-type' }, own],
            action: 'E',
          }
        : {
            type: { system: EVENT_TYPE, code: 'rest', display: 'Restful Operation' },
            subtype: [{ system: RESTFUL, code: 'read', display: 'read' }, own],
            action: 'R',
          };
    case 'received':
    case 'rejected':
    case 'not-relevant':
    case 'acked':
    case 'event-received':
    case 'event-fetched':
      return { type: { system: DCM, code: '110107', display: 'Import' }, subtype: [own], action: 'C' };
    case 'delivered':
      return { type: { system: DCM, code: '110106', display: 'Export' }, subtype: [own], action: 'C' };
    case 'sign-in-failed':
      return {
        type: { system: DCM, code: '110114', display: 'User Authentication' },
        subtype: [{ system: DCM, code: '110122', display: 'Login' }, own],
        action: 'E',
      };
    case 'rulebook-loaded':
    case 'config-loaded':
      return {
        type: { system: DCM, code: '110100', display: 'Application Activity' },
        subtype: [{ system: DCM, code: '110120', display: 'Application Start' }, own],
        action: 'E',
      };
    case 'replayed':
    case 'validated':
      return { type: { system: DCM, code: '110110', display: 'Patient Record' }, subtype: [own], action: 'E' };
    case 'updated':
    case 'merged':
    case 'patients-linked':
    case 'patients-unlinked':
    case 'acknowledged':
    case 'named-worker':
    case 'match-reviewed':
    case 'antenatal-closed':
    case 'withdrawn':
    case 'consent-withdrawn':
      return { type: { system: DCM, code: '110110', display: 'Patient Record' }, subtype: [own], action: 'U' };
    default:
      return { type: { system: DCM, code: '110110', display: 'Patient Record' }, subtype: [own], action: 'C' };
  }
}

/** FHIR's outcome: 0 success, 4 minor failure (a refusal the sender can fix), 8 serious failure, 12 major failure. */
export function outcomeCode(e: AuditEvent): '0' | '4' | '8' | '12' {
  const o = e.outcome ?? '';
  if (/^(AR|CR)$/.test(o) || o === 'given-up') return '8';
  if (/^(AE|CE)$/.test(o)) return '4';
  if (e.action === 'rejected' || e.action === 'sign-in-failed' || e.action === 'merge-refused' || e.action === 'link-refused') return '4';
  return '0';
}

/** A stated or route purpose, as HL7 v3 ActReason where one fits (text always). */
const PURPOSES: Record<string, Coding> = {
  care: { system: ACT_REASON, code: 'COC', display: 'coordination of care' },
  operations: { system: ACT_REASON, code: 'HOPERAT', display: 'healthcare operations' },
  processing: { system: ACT_REASON, code: 'HOPERAT', display: 'healthcare operations' },
  compliance: { system: ACT_REASON, code: 'HCOMPL', display: 'health compliance' },
  'subject-access': { system: ACT_REASON, code: 'PATRQT', display: 'patient requested' },
};

function purposeOf(e: AuditEvent): Json[] | undefined {
  const p = e.details?.purpose;
  if (typeof p !== 'string' || p === '') return undefined;
  const coding = PURPOSES[p];
  return [{ ...(coding ? { coding: [coding] } : {}), text: p }];
}

/** The actor: a person (`user:`), an API client (`client:`), a feed (`feed:`) or Stork itself (`system:`). */
function agentOf(e: AuditEvent): Json {
  const [kind = ''] = e.actor.split(':', 1);
  const requestor = kind === 'user' || kind === 'client';
  const type: Coding =
    kind === 'user'
      ? { system: SECURITY_ROLE, code: 'humanuser', display: 'human user' }
      : kind === 'feed'
        ? { system: DCM, code: '110153', display: 'Source Role ID' }
        : { system: DCM, code: '110150', display: 'Application' };
  // The role recorded with the event; else the kind of actor (`system`, `feed`, `client`, `user`).
  const role = typeof e.details?.role === 'string' ? e.details.role : kind;
  const name = e.details?.name;
  const purpose = purposeOf(e);
  return {
    type: { coding: [type] },
    ...(role !== '' ? { role: [{ coding: [{ system: STORK_ROLE_SYSTEM, code: role }] }] } : {}),
    who: { identifier: { system: STORK_ACTOR_SYSTEM, value: e.actor }, ...(typeof name === 'string' ? { display: name } : {}) },
    requestor,
    ...(purpose ? { purposeOfUse: purpose } : {}),
  };
}

function detail(type: string, value: string): Json {
  return { type, valueString: value };
}

function entitiesOf(e: AuditEvent): Json[] {
  const out: Json[] = [];
  const rule: Json[] = [
    ...(e.ruleId ? [detail('rule', e.ruleId)] : []),
    ...(e.rulebookVersion ? [detail('agreement', e.rulebookVersion)] : []),
    ...(e.lawfulBasis ? [detail('lawfulBasis', e.lawfulBasis)] : []),
    ...(e.outcome ? [detail('outcome', e.outcome)] : []),
  ];
  if (e.notificationId)
    out.push({
      what: { identifier: { system: STORK_NOTIFICATION_SYSTEM, value: e.notificationId }, display: `notification ${e.notificationId}` },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
      ...(rule.length ? { detail: rule } : {}),
    });
  if (e.messageId)
    out.push({
      what: { identifier: { system: STORK_MESSAGE_SYSTEM, value: e.messageId }, display: `message ${e.messageId}` },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '3', display: 'Report' },
      ...(!e.notificationId && rule.length ? { detail: rule } : {}),
    });
  if (e.subjectNhsNumber)
    out.push({
      what: { identifier: { system: NHS_NUMBER_SYSTEM, value: e.subjectNhsNumber } },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  if (typeof e.details?.query === 'string')
    out.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(JSON.stringify(e.details)).toString('base64'),
    });
  else if (!e.notificationId && !e.messageId && rule.length)
    out.push({ type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, detail: rule });
  const details = e.details && Object.keys(e.details).length > 0 ? e.details : undefined;
  if (details && typeof e.details?.query !== 'string')
    out.push({
      type: { system: ENTITY_TYPE, code: '4', display: 'Other' },
      description: 'Stork audit details (JSON)',
      detail: [detail('details', JSON.stringify(details))],
    });
  return out;
}

/** One audit event as a FHIR R4 AuditEvent (id: `audit-<seq>`). */
export function toFhirAuditEvent(e: AuditEvent): Json {
  const { type, subtype, action } = typeOf(e);
  const purpose = purposeOf(e);
  const outcome = outcomeCode(e);
  const agents: Json[] = [agentOf(e)];
  if (e.recipient)
    agents.push({
      type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
      who: { identifier: { system: STORK_INBOX_SYSTEM, value: e.recipient } },
      requestor: false,
    });
  const entity = entitiesOf(e);
  return {
    resourceType: 'AuditEvent',
    id: `audit-${e.seq}`,
    type,
    subtype,
    action,
    recorded: e.at.toISOString(),
    outcome,
    ...(e.outcome ? { outcomeDesc: e.outcome } : {}),
    ...(purpose ? { purposeOfEvent: purpose } : {}),
    agent: agents,
    source: {
      site: 'stork',
      observer: { identifier: { system: STORK_ACTOR_SYSTEM, value: 'system:stork' }, display: 'Stork birth-notification hub' },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    ...(entity.length > 0 ? { entity } : {}),
  };
}

/** A searchset Bundle of the page, with `self` and, when there may be more, `next`. */
export function auditBundle(events: readonly AuditEvent[], links: { self: string; next?: string }, base: string): Json {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: new Date().toISOString(),
    link: [{ relation: 'self', url: links.self }, ...(links.next ? [{ relation: 'next', url: links.next }] : [])],
    entry: events.map((e) => ({
      fullUrl: `${base}/AuditEvent/audit-${e.seq}`,
      resource: toFhirAuditEvent(e),
      search: { mode: 'match' },
    })),
  };
}
