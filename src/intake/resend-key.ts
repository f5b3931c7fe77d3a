/**
 * Who a received message is from, as far as intake could establish it: what the message says about its
 * sender, whether that was verified, and who authenticated on the way in.
 */
export interface SenderEvidence {
  /** How the message names its sender, most significant first (HL7 v2: MSH-4.1, MSH-3.1). */
  names: readonly string[];
  /**
   * True only when intake verified that the named sender sent it: a configured feed matches the names, the
   * authenticated API client may send for that feed, and an MLLP peer's address is one the feed lists (when
   * it lists any). False for an unknown sender, a client not allowed for the feed, or a wrong address.
   */
  verified: boolean;
  /** The authenticated API client (HTTP). */
  apiClientId?: string;
  /** The connection's peer address (MLLP). */
  remoteAddress?: string;
  /**
   * `fhir` for FHIR messages, `mesh` for messages taken from a MESH mailbox: their keys live in spaces of their
   * own (below). Absent: HL7 v2.
   */
  space?: 'fhir' | 'mesh';
}

/**
 * The re-send key: with the message's own control id (HL7 v2 MSH-10) it is unique in the store, and a
 * message arriving under a key already taken is answered with the original acknowledgement and stored no
 * more. The rule, for every intake (HL7 v2 now; FHIR bundles and events reuse it):
 *
 * - A verified sender's message takes that sender's own key, its names joined by `|` (HL7 v2:
 *   `MSH-4.1|MSH-3.1`, the format stored since the first migration, so re-sends of messages stored before
 *   this rule are still recognised).
 * - Any other message takes a key in the space of whoever did authenticate: `|client:<id>|<names>` for an
 *   API client, `|address:<peer>|<names>` for an MLLP connection, and no key at all when neither is known.
 *   It can only ever match a re-send of the same party's own refused message.
 *
 * - FHIR messages take `|fhir|feed:<feed id>` (verified) or `|fhir|client:<id>|<names>`; messages taken from a
 *   MESH mailbox take `|mesh|feed:<feed id>`, with the MESH message id as control id. No other key starts so.
 *
 * The two spaces are disjoint by construction: every key of the second kind starts with `|`, and a
 * verified sender whose first name is empty or starts with `|` gets no key at all. So a message whose
 * sender was not verified can never occupy (and so never block) a key that a genuine sender needs.
 * Pure; undefined means "no key": the message is stored, and a re-send of it is stored again.
 */
export function resendKey(e: SenderEvidence): string | undefined {
  const names = e.names.join('|');
  // A MESH message is keyed by its MESH message id (the control id) in its feed's mailbox: the mailbox is the
  // feed's own and authenticated by Stork, so only a verified feed has a key; a re-download after a restart
  // between storing and acknowledging is recognised whatever its content.
  if (e.space === 'mesh') return e.verified && names !== '' ? `|mesh|feed:${names}` : undefined;
  if (e.space === 'fhir') {
    if (e.verified) return names === '' ? undefined : `|fhir|feed:${names}`;
    return e.apiClientId !== undefined ? `|fhir|client:${e.apiClientId}|${names}` : undefined;
  }
  if (e.verified) return names === '' || names.startsWith('|') ? undefined : names;
  if (e.apiClientId !== undefined) return `|client:${e.apiClientId}|${names}`;
  if (e.remoteAddress !== undefined) return `|address:${e.remoteAddress}|${names}`;
  return undefined;
}
