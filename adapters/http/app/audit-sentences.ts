import type { AuditAction, AuditEvent } from '../../../src/ports/audit.js';
import type { WebRole } from '../../../src/ports/web-sessions.js';
import { ROLE_NAMES } from './navigation.js';

/** What the sentences need to name things: centres (inboxes), feeds and consent rules by their names. */
export interface AuditNames {
  inboxName: (inboxId: string) => string | undefined;
  feedName: (feedId: string) => string | undefined;
  /** The rule's description in the rulebook, if it is one of today's rules. */
  ruleDescription: (ruleId: string) => string | undefined;
}

/** One event of a notification's trail, as the IG lead's page shows it. */
export interface TrailLine {
  seq: number;
  at: string;
  /** One readable sentence: what happened, to whom, by whom, when. */
  sentence: string;
  rule?: string;
  rulebookVersion?: string;
  lawfulBasis?: string;
  outcome?: string;
}

const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** An instant as people in England read it: "29 November 2026 at 09:31:05" (London time). */
export function londonDateTime(at: Date): string {
  const p = Object.fromEntries(LONDON.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.day ?? ''} ${p.month ?? ''} ${p.year ?? ''} at ${p.hour ?? ''}:${p.minute ?? ''}:${p.second ?? ''}`;
}

const WHAT: Record<AuditAction, string> = {
  received: 'Message received',
  rejected: 'Message rejected',
  mapped: 'Mapped to a birth notification',
  validated: 'Checked against the rules for a birth notification',
  'not-relevant': 'Found not to be a birth to notify',
  'duplicate-birth': 'Recognised as a birth already notified',
  decided: 'Sharing decided under the consent rules',
  routed: 'Routed to the centre covering the family’s address',
  delivered: 'Disclosed',
  withheld: 'Withheld (not disclosed)',
  withdrawn: 'Withdrawn from the centre, and its content removed',
  read: 'Read',
  acknowledged: 'Taken on',
  replayed: 'Replayed by an operator',
  'raw-read': 'Raw message read',
  linked: 'The same birth by another route: linked to this notification, which it added to',
  'not-linked': 'Looked like the same birth but differed, so kept apart',
  updated: 'The updated record disclosed to the centre',
  merged: 'The trust merged two records of this person (HL7 v2 A40): applied to Stork’s records',
  'merge-refused': 'A merge from the trust was refused: the records are different babies; an operator must check',
  'patients-linked': 'The trust linked this person to another (HL7 v2 A24): applied to Stork’s family records',
  'link-refused': 'A link from the trust was refused: it conflicts with the family Stork knows; an operator must check',
  'patients-unlinked': 'The trust undid a link between two people (HL7 v2 A37): recorded',
  'event-received': 'Signal event received from the trust',
  'event-fetched': 'Record fetched from the trust’s FHIR server',
  'named-worker': 'Named worker for the family assigned or removed by the centre',
  'offer-outcome-recorded': 'Offer-of-support outcome recorded by the centre',
  'family-linked': 'Placed in a family',
  'antenatal-closed': 'Antenatal notification closed: the baby’s birth joined the family, so the centre sees it under Born',
  'match-review-created': 'A possible family match held for an operator to review',
  'match-reviewed': 'A possible family match confirmed or rejected by an operator',
  'families-imported': 'A centre’s family register imported',
  'consent-recorded': 'A parent’s consent or objection recorded',
  'consent-withdrawn': 'A consent record withdrawn',
  'rulebook-loaded': 'A new version of an information-sharing agreement loaded',
  'audit-chain-started': 'The tamper-evident audit chain began; the events before it are sealed',
  acked: 'Acknowledgement returned to the sender',
  'config-loaded': 'A configuration file loaded at start-up',
  'sign-in-failed': 'A sign-in failed',
  exported: 'Data exported',
  purged: 'Personal data past its retention period purged (counts only; ids, hashes and times kept)',
  'keys-rotated': 'Stored data re-encrypted under the current data key (counts and key ids only)',
  'webhook-delivered': "Pushed to the centre's webhook, which confirmed receipt",
  'webhook-dead-lettered': "Not accepted by the centre's webhook after retries: kept as a dead letter for an operator",
  'webhook-replayed': 'Dead letter replayed by an operator',
  'trigger-fired': 'Trigger fired: sent to the early-help queue',
  'trigger-not-fired': 'Trigger did not fire',
  'trigger-held': 'Trigger held for safeguarding review (restricted record)',
  'trigger-reviewed': 'Held trigger released or closed at safeguarding review',
  'firing-taken-on': 'Trigger taken on by early help',
};

/** Each event type and its description, for the IG lead's search by event type. */
export const EVENT_TYPES: readonly { action: AuditAction; text: string }[] = Object.entries(WHAT)
  .map(([action, text]) => ({ action: action as AuditAction, text }))
  .sort((a, b) => a.text.localeCompare(b.text));

const detailString = (e: AuditEvent, key: string): string | undefined => {
  const v = e.details?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** Who acted, in words: a person by name (with their role and centre), a feed, an API client, or Stork itself. */
export function actorInWords(e: AuditEvent, names: AuditNames): string {
  const [kind, ...rest] = e.actor.split(':');
  const id = rest.join(':');
  if (kind === 'user') {
    const name = detailString(e, 'name') ?? 'a person whose name was not recorded';
    const role = detailString(e, 'role') as WebRole | undefined;
    const centre = e.recipient !== undefined ? names.inboxName(e.recipient) : undefined;
    // A person reading or taking on a record in an inbox does so as that centre's worker.
    const roleName =
      role !== undefined && role in ROLE_NAMES ? ROLE_NAMES[role] : centre !== undefined ? ROLE_NAMES['centre-worker'] : undefined;
    const about = [roleName, centre].filter((x) => x !== undefined).join(', ');
    return about ? `${name} (${about})` : name;
  }
  if (kind === 'feed') return `the feed ${names.feedName(id) ?? id}`;
  if (kind === 'client') return `the API client ${id}`;
  if (e.actor === 'system:intake') return 'Stork (intake)';
  if (e.actor === 'system:worker') return 'Stork (processing)';
  return e.actor;
}

/** A feed's events are Stork's work on what the feed sent: "from" the feed at receipt, "for" it after. */
function byWhom(e: AuditEvent, names: AuditNames): string {
  const who = actorInWords(e, names);
  if (!e.actor.startsWith('feed:')) return `by ${who}`;
  return e.action === 'received' ? `from ${who}` : `by Stork (intake), on the message from ${who}`;
}

/** An event of the trail as one sentence, with its rule, rulebook version and lawful basis beside it. */
export function describeEvent(e: AuditEvent, names: AuditNames): TrailLine {
  const recipient = e.recipient !== undefined ? (names.inboxName(e.recipient) ?? e.recipient) : undefined;
  let what = WHAT[e.action];
  if (e.action === 'delivered' && recipient !== undefined) what = `Disclosed to ${recipient}`;
  else if (e.action === 'withheld' && recipient !== undefined) what = `Withheld from ${recipient}`;
  else if (e.action === 'read' && detailString(e, 'query') !== undefined) what = 'Audit trail read';
  // Updates and moves (issue 12): a later message's values replacing the record, a move between inboxes.
  else if (e.action === 'updated' && recipient === undefined)
    what = 'Updated by a later message about the baby (its values replace the old)';
  else if (e.action === 'withdrawn' && e.outcome === 'moved-away')
    what = `Withdrawn from ${recipient ?? 'its inbox'} because the notification moved (the family’s address or the sharing decision changed), its content removed there`;
  else if (e.action === 'not-relevant' && e.outcome === 'update-not-applied')
    what = 'An update about a baby Stork has not notified: recorded, no notification made';
  // A person's description names their centre already; an API client's does not.
  else if ((e.action === 'read' || e.action === 'acknowledged') && recipient !== undefined && !e.actor.startsWith('user:'))
    what = `${what} at ${recipient}`;
  const line: TrailLine = {
    seq: e.seq,
    at: e.at.toISOString(),
    sentence: `${what} ${byWhom(e, names)} on ${londonDateTime(e.at)}.`,
  };
  if (e.ruleId !== undefined) {
    const description = names.ruleDescription(e.ruleId);
    line.rule = description !== undefined ? `${e.ruleId}: ${description}` : e.ruleId;
  }
  if (e.rulebookVersion !== undefined) line.rulebookVersion = e.rulebookVersion;
  if (e.lawfulBasis !== undefined) line.lawfulBasis = e.lawfulBasis;
  if (e.outcome !== undefined) line.outcome = e.outcome;
  return line;
}
