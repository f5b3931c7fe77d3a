import type { BackfillMode } from '../hl7v2/map-outcome.js';

/**
 * A FHIR R4 messaging feed (`"kind": "fhir"` in feeds.json): bundles posted to `$process-message` by one API
 * client. The message names its sender in MessageHeader.source.endpoint; only `apiClient` may send for it.
 */
export interface FhirFeedConfig {
  id: string;
  kind: 'fhir';
  name: string;
  /** MessageHeader.source.endpoint of this feed's messages (unique among FHIR feeds). */
  sourceEndpoint: string;
  /** The API client (api-clients.json, role feed, scope = this feed's id) allowed to send for this feed. */
  apiClient: string;
  /** The mapping in `mappings/fhir/` that reads this feed. */
  mapping: string;
  /** As for HL7 v2 feeds; the message time is Bundle.timestamp. */
  backfill?: BackfillMode;
}

/**
 * A feed of NHS national birth notifications (`"kind": "nems"` in feeds.json): FHIR STU3 PDS birth notification
 * event messages, delivered by MESH (a NEMS subscription's mailbox) or posted to `$process-message` by the
 * feed's one API client. The national publisher is the sender whatever MessageHeader.source.endpoint says, so the
 * feed is the one the caller names (the mailbox's, or the API client's), never looked up from the message.
 */
export interface NemsFeedConfig {
  id: string;
  kind: 'nems';
  name: string;
  /** The API client (api-clients.json, role feed, scope = this feed's id) allowed to post for this feed. */
  apiClient: string;
  /** The mapping in `mappings/fhir/` that reads this feed (it must have a `nems` section). */
  mapping: string;
  /** As for HL7 v2 feeds; the message time is MessageHeader.timestamp. */
  backfill?: BackfillMode;
}
