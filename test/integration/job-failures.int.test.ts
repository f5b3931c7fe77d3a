import { JOB_OPTIONS } from '../../adapters/queue/bullmq-queues.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ env: { STORK_ROLES: 'worker' } });
});
afterAll(async () => {
  await t.stop();
});

describe('A job that can never succeed fails at once', () => {
  test('a processing job whose data holds no valid ids fails on its first attempt, not after 12 retries, and is logged once as final', async () => {
    expect(JOB_OPTIONS.attempts).toBe(12);
    const queue = t.hub.queues.processQueue;
    const job = await queue.add('process', { messageIds: ['not-a-message-id'] }, JOB_OPTIONS);
    const id = job.id ?? '';
    const state = await pollUntil(async () => {
      const s = await queue.getJobState(id);
      return s === 'failed' || s === 'delayed' ? s : undefined;
    }, 'the job to fail');
    // Retried, it would now be `delayed` for its backoff; failed for good, it is in the failed set with one attempt.
    expect(state).toBe('failed');
    const failed = await queue.getJob(id);
    expect(failed?.attemptsMade).toBe(1);
    // What BullMQ keeps in Redis names the kind of error only.
    expect(failed?.failedReason).toBe('PermanentError');
    const lines = t.sink.records().filter((r) => r.jobId === id);
    expect(lines.map((r) => r.msg)).toEqual(['job failed for good; kept in the failed set for an operator']);
    expect(lines[0]).toMatchObject({ level: 50, err: { type: 'UnrecoverableError' } });
  });
});
