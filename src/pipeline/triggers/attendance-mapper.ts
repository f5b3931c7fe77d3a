/**
 * Intake's mapper for feeds that carry attendances (issue 17 item 2): the feed's own mapping first (a birth stays a
 * birth); a message it finds not relevant is read as an attendance when the feed has an `attendances` section. An
 * attendance none of whose codes is in any trigger's value set is not relevant (acknowledged, kept, not queued): by
 * design it is not audited as a decision not to fire, since most A&E attendances are not about any trigger and an
 * audit event each would flood the trail (the message's own receipt audit records it as `not-relevant`).
 */
import { readEnvelope } from '../hl7v2/envelope.js';
import type { FeedMapper } from '../hl7v2/assess-hl7v2.js';
import { mapAttendance } from '../hl7v2/map-attendance.js';
import { candidateTriggers, type DeclaredTrigger } from './evaluate-trigger.js';

export const NO_TRIGGER_REASON = "A&E attendance whose coded reasons are in no trigger's value set";

export function withAttendances(mapper: FeedMapper, triggers: readonly DeclaredTrigger[]): FeedMapper {
  return (text, feed, receivedAt) => {
    const outcome = mapper(text, feed, receivedAt);
    const criteria = feed.attendances;
    if (outcome.kind !== 'not-relevant' || criteria === undefined) return outcome;
    const read = readEnvelope(text);
    if (!read.ok) return outcome;
    const e = read.envelope;
    const mapped = mapAttendance(text, criteria, {
      feedId: feed.id,
      messageControlId: e.controlId,
      messageType: e.messageType,
      triggerEvent: e.triggerEvent,
    });
    if (mapped.kind === 'not-attendance') return outcome;
    if (mapped.kind === 'invalid') return { kind: 'invalid', issues: mapped.issues };
    if (candidateTriggers(mapped.attendance, triggers).length === 0) return { kind: 'not-relevant', reason: NO_TRIGGER_REASON };
    return { kind: 'attendance', attendance: mapped.attendance, issues: [] };
  };
}
