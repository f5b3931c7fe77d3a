import { repoRoot } from '../../src/config/env.js';
import { loadHubConfig } from '../../src/config/hub-config.js';
import { createLogger } from '../../src/logger.js';
import { Hl7v2Intake } from '../../src/intake/hl7v2-intake.js';
import { newInternalErrorCounts } from '../../src/intake/internal-errors.js';
import type { Hl7v2Mapping } from '../../src/pipeline/hl7v2/build-mappings.js';
import { mapHl7v2 } from '../../src/pipeline/hl7v2/map-hl7v2.js';
import { SqlMessageStore } from '../../adapters/store/sql-message-store.js';
import { BullmqQueues } from '../../adapters/queue/bullmq-queues.js';
import { redisConnection } from '../../adapters/queue/redis-connection.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { deleteKeys, REDIS_URL } from '../support/test-hub.js';
import { LogSink } from '../support/log-sink.js';

const config = loadHubConfig(repoRoot);
const prefix = `stork-test-${process.pid}-maperr`;
let database: TestDatabase;
const producer = redisConnection(REDIS_URL, 'producer');
let queues: BullmqQueues;

beforeAll(async () => {
  database = await createTestDatabase();
  await producer.connect();
  queues = new BullmqQueues(producer, prefix);
});
afterAll(async () => {
  await queues.close();
  await producer.quit();
  await database.drop();
  await deleteKeys(prefix);
});

/** The feed's own mapping, with its baby-name function replaced by one with a bug that quotes the data it read. */
function mappingWithBug(base: Hl7v2Mapping): Hl7v2Mapping {
  const fields = new Map(base.fields);
  const rules = fields.get('baby.name') ?? [];
  fields.set(
    'baby.name',
    rules.map((rule) => ({
      ...rule,
      fn: {
        kind: 'name' as const,
        fn: ({ reps }) => {
          throw new TypeError(`cannot split the name "${reps[0]?.value(1) ?? ''}" of NHS ${reps[0]?.value(1) ?? ''}`);
        },
      },
    })),
  );
  return { ...base, fields };
}

describe('A bug in the mapping code is logged and counted, not hidden behind an AE', () => {
  test('a mapping function that throws: the sender gets AE, the message is kept, the bug is logged once without personal data and counted', async () => {
    const feed = config.feeds.feeds.find((f) => f.sendingFacility === 'RX1');
    if (!feed) throw new Error('the sample configuration has no RX1 feed');
    const broken = mappingWithBug(config.mappings.get(feed.mapping));
    const sink = new LogSink();
    const counts = newInternalErrorCounts();
    const intake = new Hl7v2Intake({
      feeds: config.feeds,
      mapper: (text, f, receivedAt) => mapHl7v2(text, broken, { feedId: f.id, receivedAt }),
      store: new SqlMessageStore(database.db),
      processingJobs: queues,
      logger: createLogger('debug', sink),
      counts,
    });
    const b = describeNewborn({
      seed: 4242,
      sendingFacility: feed.sendingFacility,
      sendingApplication: 'MATERNITY',
      messageTime: new Date(),
    });
    const result = await intake.receive({ bytes: Buffer.from(b.text), channel: 'mllp', remoteAddress: '127.0.0.1' });
    await intake.drained();

    // The generator's messages ask for enhanced acknowledgement (MSH-15 AL): an AE is sent as a commit error, CE.
    expect(result.code).toBe('CE');
    expect(result.stored).toBe(true);
    expect(result.ack).toContain('Internal error while mapping the message');
    const stored = await new SqlMessageStore(database.db).get(result.messageId ?? '');
    expect(stored?.status).toBe('quarantined');

    expect(counts.mapping).toBe(1);
    const reports = sink.records().filter((r) => String(r.msg).startsWith('internal error while mapping'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      level: 50,
      messageId: result.messageId,
      feed: feed.id,
      mapping: feed.mapping,
      err: { type: 'InternalError', cause: { type: 'TypeError' } },
    });
    // The bug's own message quoted the baby's name: neither it nor any personal data reaches the log.
    const personal = [b.baby.family, b.baby.given, b.baby.nhsNumber, b.baby.postcode, 'cannot split'];
    for (const value of personal) expect(sink.text).not.toContain(value);
  });
});
