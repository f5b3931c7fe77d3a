import { fork, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { repoRoot } from '../../src/config/env.js';
import { log, sleep } from './bench-stats.js';
import {
  DeadlineError,
  isGeneratorReply,
  type Deadline,
  type GeneratorCommand,
  type GeneratorReply,
  type PrepareCommand,
  type PreparedReply,
  type ResultReply,
} from './load-generator-protocol.js';
/** The bench's child processes: worker processes and the load generator, each killed if the bench exits by any path. */

/** Child processes still running: killed when this process exits by any path (process.exit included), so none is left behind. */
export const liveChildren = new Set<ChildProcess>();

export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Starts `node dist/src/main.js` with STORK_ROLES=worker and waits until it says it has started. */
export async function startWorkerProcess(
  extraEnv: Record<string, string>,
  deadline: Deadline,
): Promise<{ pid: number | undefined; stop(): Promise<void> }> {
  const main = path.join(repoRoot, 'dist', 'src', 'main.js');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STORK_') && k !== 'DATABASE_URL') env[k] = v;
  const child = spawn(process.execPath, [main], {
    env: { ...env, ...extraEnv, STORK_ROLES: 'worker', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  trackChild(child);
  // Set by the child's events while the loop below waits.
  const state: { started: boolean; exited: number | null } = { started: false, exited: null };
  child.on('exit', (code) => (state.exited = code ?? 1));
  child.stdout.on('data', (d: Buffer) => {
    if (d.toString('utf8').includes('"msg":"stork started"')) state.started = true;
  });
  try {
    while (!state.started) {
      if (state.exited !== null) throw new Error(`worker process exited with code ${String(state.exited)} before starting`);
      deadline.check('starting a worker process');
      await sleep(20);
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.stdout.resume();
  return {
    pid: child.pid,
    async stop() {
      if (state.exited !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The load generator: a child process (load-generator.ts) that generates and sends the messages

/**
 * The bench's handle on its load generator. One request at a time; each waits for its reply, the child's
 * death (the run fails, naming the step), or the run's deadline (plus a little, as the child checks it too).
 */
export class LoadGenerator {
  private exit: string | undefined;
  private waiter: { resolve(reply: GeneratorReply): void; reject(err: Error): void } | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    trackChild(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
        this.failWaiter(new Error(`the load generator process (pid ${String(child.pid)}) ${this.exit}`));
        resolve();
      });
    });
    child.on('error', (err) => this.failWaiter(new Error(`load generator process: ${err.message}`)));
    child.on('message', (message: unknown) => {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (!isGeneratorReply(message)) {
        const err = new Error(
          `the load generator sent something the bench does not understand: ${inspect(message, { depth: 2, maxStringLength: 200 })}`,
        );
        if (waiter) waiter.reject(err);
        else log(err.message);
        child.kill('SIGKILL');
      } else if (waiter) waiter.resolve(message);
      else if (message.type === 'failed') log(`load generator: ${message.message}`);
    });
  }

  /** Forks dist/test/bench/load-generator.js and waits for it to say it is ready. */
  static async start(deadline: Deadline): Promise<LoadGenerator> {
    const script = fileURLToPath(new URL('./load-generator.js', import.meta.url));
    const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const generator = new LoadGenerator(child);
    try {
      await generator.next('ready', 'starting', deadline);
    } catch (err) {
      await generator.stop();
      throw err;
    }
    return generator;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Generates the phase's messages and opens the connections (the first time); not timed. */
  async prepare(command: Omit<PrepareCommand, 'type' | 'deadlineAt'>, deadline: Deadline): Promise<PreparedReply> {
    this.send({ type: 'prepare', ...command, deadlineAt: deadline.at });
    return this.next('prepared', `preparing the ${command.phase} phase`, deadline);
  }

  /** Sends the prepared messages; resolves when every one has its ACK (or has failed). */
  async run(phase: string, deadline: Deadline): Promise<ResultReply> {
    this.send({ type: 'run' });
    return this.next('result', `sending the ${phase} phase`, deadline);
  }

  /** Asks the child to close its connections and exit; kills it if it has not within 5 s. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.exit !== undefined) return;
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies GeneratorCommand, () => undefined);
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private send(command: GeneratorCommand): void {
    if (this.exit !== undefined)
      throw new Error(`the load generator process (pid ${String(this.child.pid)}) ${this.exit} before "${command.type}"`);
    this.child.send(command, (err) => {
      if (err) this.failWaiter(new Error(`could not send "${command.type}" to the load generator: ${err.message}`));
    });
  }

  private failWaiter(err: Error): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }

  private async next<T extends GeneratorReply['type']>(
    type: T,
    what: string,
    deadline: Deadline,
  ): Promise<Extract<GeneratorReply, { type: T }>> {
    if (this.exit !== undefined) throw new Error(`the load generator process (pid ${String(this.child.pid)}) ${this.exit} before ${what}`);
    if (this.waiter) throw new Error(`load generator: ${what} while another request is waiting`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await new Promise<GeneratorReply>((resolve, reject) => {
        this.waiter = {
          resolve,
          reject: (err) => reject(new Error(`${err.message} while ${what}`)),
        };
        // The child checks the deadline itself; this catches a child that is alive but stuck.
        timer = setTimeout(
          () => {
            this.waiter = undefined;
            reject(new DeadlineError(`deadline passed while waiting for the load generator (${what})`));
          },
          Math.max(0, deadline.at - Date.now()) + 5000,
        );
      });
      if (reply.type === 'failed')
        throw reply.deadline ? new DeadlineError(reply.message) : new Error(`load generator failed while ${what}: ${reply.message}`);
      if (reply.type !== type) throw new Error(`load generator answered "${reply.type}" while ${what} (expected "${type}")`);
      return reply as Extract<GeneratorReply, { type: T }>;
    } finally {
      clearTimeout(timer);
    }
  }
}
