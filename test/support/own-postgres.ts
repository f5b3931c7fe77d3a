import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './own-redis.js';
import { pollUntil } from './poll.js';

const run = promisify(execFile);

/** Debian's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`), the newest version installed. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (newest === undefined) throw new Error(`no PostgreSQL under ${root}`);
  return path.join(root, newest, 'bin');
}

/** The `postgres` OS user's uid and gid (initdb refuses to run as root). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

/**
 * A test's own PostgreSQL cluster (never the shared 5432): initdb in a temporary directory, a free loopback port,
 * trust authentication, fsync off (a test's data need not survive a power cut), its socket in that directory. Run as
 * the `postgres` OS user when the test runs as root. `stop()` and `start()` take it away and bring it back on the
 * same port with the same data; `destroy()` stops it and removes the directory (call it in afterAll).
 */
export class OwnPostgres {
  private running = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
    private readonly asRoot: boolean,
  ) {}

  /** The superuser's connection string for `database` on this cluster. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** Runs one of the cluster's programs, as `postgres` when this process is root. */
  private async exec(program: string, args: string[]): Promise<void> {
    const file = path.join(this.bin, program);
    const [cmd, argv] = this.asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    await run(cmd, argv, { timeout: 60000 });
  }

  /** Creates the cluster and starts it. */
  static async create(): Promise<OwnPostgres> {
    const asRoot = process.getuid?.() === 0;
    const dir = mkdtempSync(path.join(tmpdir(), 'stork-own-pg-'));
    const cluster = new OwnPostgres(await freePort(), dir, postgresBin(), asRoot);
    try {
      if (asRoot) {
        const { uid, gid } = await postgresUser();
        chownSync(dir, uid, gid);
      }
      await cluster.exec('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
      await cluster.start();
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** Starts the server (again, after `stop()`) and waits until it accepts a connection. */
  async start(): Promise<void> {
    if (this.running) throw new Error('the cluster is already running');
    const options = [
      `-p ${this.port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${this.dir}'`,
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
    ].join(' ');
    this.running = true;
    await this.exec('pg_ctl', ['start', '-w', '-t', '30', '-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-o', options]);
    await pollUntil(
      async () => {
        const c = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.query('select 1');
          return true;
        } catch {
          return undefined;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      `PostgreSQL on port ${this.port}`,
      15000,
    );
  }

  /**
   * Stops the server: `immediate` (the default) drops every connection at once without a checkpoint, as a crash
   * would (the restart replays the WAL); `fast` rolls back open transactions and closes connections cleanly.
   */
  async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    if (!this.running) return;
    await this.exec('pg_ctl', ['stop', '-w', '-t', '30', '-m', mode, '-D', this.dataDir]);
    this.running = false;
  }

  /** Stops the server (if running) and removes its directory. Never throws: it is for afterAll. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs `sql` as the superuser in `database`. */
  async admin(sql: string, database = 'postgres'): Promise<void> {
    const c = new pg.Client({ connectionString: this.url(database) });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }
}
