import { FeedDirectory, type FeedConfig } from '../../src/pipeline/hl7v2/feed-directory.js';
import { buildAck } from '../../src/pipeline/hl7v2/ack.js';
import { assessHl7v2, type FeedMapper } from '../../src/pipeline/hl7v2/assess-hl7v2.js';
import { readEnvelope } from '../../src/pipeline/hl7v2/envelope.js';

/** The ACK intake would send for a golden input, with a fixed ACK id and clock so it can be compared. */
export function goldenAck(text: string, mappingName: string, mapper: FeedMapper, receivedAt: Date): string {
  const read = readEnvelope(text);
  const env = read.ok ? read.envelope : read.partial;
  // A feed for whoever sent the fixture, accepting its type and event, read with the case's mapping.
  const feed: FeedConfig = {
    id: 'golden',
    name: 'Golden fixtures',
    sendingFacility: env?.sendingFacility ?? '',
    messageTypes: { ADT: ['A01', 'A04', 'A05', 'A08', 'A28', 'A31'] },
    versions: ['2.4'],
    processingIds: ['P'],
    mapping: mappingName,
  };
  const a = assessHl7v2(text, { feeds: new FeedDirectory([feed]), mapper, receivedAt });
  return buildAck(a.envelope, a.ackCode, a.issues, { ackControlId: 'GOLDENACK', now: receivedAt });
}
