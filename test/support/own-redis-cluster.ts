import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { defined } from './defined.js';
import { freePort } from './own-redis.js';
import { pollUntil } from './poll.js';

const run = promisify(execFile);

/** Starts a `redis-server` with these arguments in its own process group (so a kill ends it even after a failed test). */
function redisServer(args: string[]): ChildProcess {
  return spawn('redis-server', args, { detached: true, stdio: 'ignore' });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-(child.pid ?? 0), 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  return gone;
}

/** One command to the server on this port (a fresh connection, no retries); undefined while it does not answer. */
async function ask(port: number, ...command: [string, ...string[]]): Promise<unknown> {
  const probe = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await probe.call(...command);
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}

const NO_DISK = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--daemonize', 'no'];

/** Servers a test started and the directory they write to; `stop()` kills them all and removes it. */
class OwnServers {
  protected readonly children: ChildProcess[] = [];

  protected constructor(protected readonly dir: string) {}

  protected start(args: string[]): ChildProcess {
    const child = redisServer(args);
    this.children.push(child);
    return child;
  }

  protected async answering(port: number, child: ChildProcess): Promise<void> {
    await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited (${child.exitCode})`);
        return (await ask(port, 'PING')) === 'PONG' ? true : undefined;
      },
      `redis-server on port ${port}`,
      15000,
    );
  }

  /** Kills every server (SIGKILL) and removes their files. */
  async stop(): Promise<void> {
    await Promise.all(this.children.splice(0).map(kill));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A test's own Redis Cluster of three masters (no replicas), `redis-server` processes on free loopback ports, with no
 * persistence; the cluster's node files live in a temporary directory removed by `stop()`.
 */
export class OwnRedisCluster extends OwnServers {
  private constructor(
    dir: string,
    readonly ports: number[],
  ) {
    super(dir);
  }

  /** `host:port,...` of the masters, as STORK_REDIS_NODES takes them. */
  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  static async start(masters = 3): Promise<OwnRedisCluster> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stork-redis-cluster-'));
    const ports: number[] = [];
    while (ports.length < masters) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const cluster = new OwnRedisCluster(dir, ports);
    try {
      const children = ports.map((p) =>
        cluster.start([
          '--port',
          String(p),
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          path.join(dir, `nodes-${p}.conf`),
          '--dir',
          dir,
          ...NO_DISK,
        ]),
      );
      await Promise.all(ports.map((p, i) => cluster.answering(p, defined(children[i], `redis-server on port ${p}`))));
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 20000,
      });
      // Every master sees the whole cluster, with all 16384 slots served, before a client is let in.
      await pollUntil(
        async () => {
          const infos = await Promise.all(ports.map((p) => ask(p, 'CLUSTER', 'INFO')));
          const ok = infos.every(
            (i) => typeof i === 'string' && i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${masters}`),
          );
          return ok ? true : undefined;
        },
        'cluster_state:ok on every master',
        20000,
      );
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }
}

/**
 * A test's own Redis Sentinel set-up: one master `redis-server` and one sentinel watching it under `masterName`
 * (quorum 1), both on free loopback ports, no persistence; the sentinel's config file (it rewrites it) lives in a
 * temporary directory removed by `stop()`.
 */
export class OwnRedisSentinel extends OwnServers {
  readonly masterName = 'stork-test-master';

  private constructor(
    dir: string,
    readonly masterPort: number,
    readonly sentinelPort: number,
  ) {
    super(dir);
  }

  /** `host:port` of the sentinel, as STORK_REDIS_SENTINELS takes it. */
  get sentinels(): string {
    return `127.0.0.1:${this.sentinelPort}`;
  }

  static async start(): Promise<OwnRedisSentinel> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stork-redis-sentinel-'));
    const masterPort = await freePort();
    let sentinelPort = await freePort();
    while (sentinelPort === masterPort) sentinelPort = await freePort();
    const s = new OwnRedisSentinel(dir, masterPort, sentinelPort);
    try {
      const master = s.start(['--port', String(masterPort), '--dir', dir, ...NO_DISK]);
      await s.answering(masterPort, master);
      const conf = path.join(dir, 'sentinel.conf');
      await writeFile(
        conf,
        [
          `port ${sentinelPort}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${s.masterName} 127.0.0.1 ${masterPort} 1`,
          `sentinel down-after-milliseconds ${s.masterName} 5000`,
          '',
        ].join('\n'),
      );
      const sentinel = s.start([conf, '--sentinel']);
      await s.answering(sentinelPort, sentinel);
      await pollUntil(
        async () => {
          const addr = await ask(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', s.masterName);
          return Array.isArray(addr) && addr[1] === String(masterPort) ? true : undefined;
        },
        `the sentinel naming the master ${s.masterName}`,
        15000,
      );
      return s;
    } catch (err) {
      await s.stop();
      throw err;
    }
  }
}
