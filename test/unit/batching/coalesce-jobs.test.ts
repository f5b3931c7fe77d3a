import { coalesceJobs } from '../../../src/batching/coalesce-jobs.js';

/** A run function that records each call and fails any call that contains a poisoned item. */
function recordingRun(poison = new Set<string>()) {
  const calls: string[][] = [];
  const run = async (items: readonly string[]): Promise<void> => {
    calls.push([...items]);
    await Promise.resolve();
    const bad = items.find((i) => poison.has(i));
    if (bad !== undefined) throw new Error(`cannot do ${bad}`);
  };
  return { calls, run };
}

describe('coalesceJobs', () => {
  it('runs jobs that are active at the same time as one batch, each job resolving', async () => {
    const { calls, run } = recordingRun();
    const job = coalesceJobs(run, { maxJobsPerBatch: 10, maxConcurrentBatches: 1 });
    await Promise.all([job(['a', 'b']), job(['c']), job(['d', 'e'])]);
    expect(calls).toEqual([['a', 'b', 'c', 'd', 'e']]);
  });

  it('caps a batch at maxJobsPerBatch jobs', async () => {
    const { calls, run } = recordingRun();
    const job = coalesceJobs(run, { maxJobsPerBatch: 2, maxConcurrentBatches: 1 });
    await Promise.all([job(['a']), job(['b']), job(['c'])]);
    expect(calls).toEqual([['a', 'b'], ['c']]);
  });

  it('when a combined batch fails, runs its jobs one by one so only the failing job fails', async () => {
    const { calls, run } = recordingRun(new Set(['x']));
    const job = coalesceJobs(run, { maxJobsPerBatch: 10, maxConcurrentBatches: 1 });
    const results = await Promise.allSettled([job(['a']), job(['x', 'y']), job(['b'])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('cannot do x'));
    expect(calls).toEqual([['a', 'x', 'y', 'b'], ['a'], ['x', 'y'], ['b']]);
  });

  it("passes a lone job's failure straight through, run once", async () => {
    const { calls, run } = recordingRun(new Set(['x']));
    const job = coalesceJobs(run, { maxJobsPerBatch: 10, maxConcurrentBatches: 1 });
    await expect(job(['x'])).rejects.toThrow('cannot do x');
    expect(calls).toEqual([['x']]);
  });
});
