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
