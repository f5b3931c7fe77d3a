import { GroupCommit } from './group-commit.js';

/**
 * Runs queue jobs that are active at the same time as one batch: a worker with concurrency N holds up to N
 * jobs, and each job's ids join the next batch, so the store sees one statement per batch instead of one
 * per job (a statement's fixed cost, not its rows, is most of a small batch's cost). Each job still
 * succeeds or fails on its own: when a combined batch fails, its jobs are run again one by one, so one
 * job that cannot be done does not fail the others with it (BullMQ then retries only that one).
 * `run` must be idempotent, as every job handler here is.
 */
export function coalesceJobs<T>(
  run: (items: readonly T[]) => Promise<void>,
  options: { maxJobsPerBatch: number; maxConcurrentBatches: number },
): (items: readonly T[]) => Promise<void> {
  const batches = new GroupCommit<readonly T[], Error | undefined>(
    async (jobs) => {
      try {
        await run(jobs.flat());
        return jobs.map(() => undefined);
      } catch (err) {
        if (jobs.length === 1) throw err;
        const outcomes: (Error | undefined)[] = [];
        for (const job of jobs) {
          try {
            await run(job);
            outcomes.push(undefined);
          } catch (jobErr) {
            outcomes.push(jobErr instanceof Error ? jobErr : new Error(String(jobErr)));
          }
        }
        return outcomes;
      }
    },
    options.maxJobsPerBatch,
    options.maxConcurrentBatches,
  );
  return async (items) => {
    const failure = await batches.submit(items);
    if (failure !== undefined) throw failure;
  };
}
