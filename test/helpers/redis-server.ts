// Starts a private redis-server on a free loopback port, in its own temp directory (or a given
// one, e.g. TETHER_HOME/redis), for tests and benchmarks. Never touches a system Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { makeOwnerOnly } from '../../shared/private-files.js';

/**
 * Ports handed out are below the kernel's ephemeral range (32768–60999 here), where outgoing
 * connections take their local ports, so a port picked here is not taken by some client's socket
 * before the test's server listens on it; each vitest worker draws from its own slice of 1,000, and
 * a port is never handed out twice by one process.
 */
const PORT_FLOOR = 20_000;
const SLICE = 1_000;
const SLICES = 12;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0) % SLICES;
  const base = PORT_FLOOR + worker * SLICE;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = base + Math.floor(Math.random() * SLICE);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${base}–${base + SLICE - 1}`);
}

export interface RedisServerHandle {
  url: string;
  port: number;
  dir: string;
  /** The running redis-server's pid (0 when stopped): benchmarks read its CPU time. */
  readonly pid: number;
  /** SHUTDOWN SAVE, as an operator restart does; the data dir stays. */
  shutdown(): Promise<void>;
  /** Starts again on the same port and data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Resolves once a Redis at `url` answers PING; throws after 10 s. */
export async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return;
    } catch (err) {
      c.disconnect();
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Same settings as the embedded default (scripts/up): AOF on, `hz 100`, umask 077 so the AOF and
 * RDB files are 0600 in a 0700 dir. `dir` (kept on stop) defaults to a fresh temp dir (removed on
 * stop); an existing one is narrowed to owner-only first. `onSpawn` sees each redis-server process.
 */
export async function startRedisServer(opts: { port?: number; dir?: string; onSpawn?: (child: ChildProcess) => void } = {}): Promise<RedisServerHandle> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tether-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const launch = async () => {
    makeOwnerOnly(dir);
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--hz', '100', '--save', '', '--protected-mode', 'yes', '--maxclients', '20000'];
    // The shell sets the umask for redis-server alone and execs it, so the pid stays redis-server's.
    child = spawn('/bin/sh', ['-c', 'umask 077 && exec redis-server "$@"', 'redis-server', ...args], { stdio: 'ignore' });
    opts.onSpawn?.(child);
    await waitReady(url);
  };
  const exited = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
    });
  await launch();
  return {
    url,
    port,
    dir,
    get pid() {
      return child?.exitCode === null ? (child.pid ?? 0) : 0;
    },
    async shutdown() {
      const c = new Redis(url, { maxRetriesPerRequest: 0 });
      await c.call('SHUTDOWN', 'SAVE').catch(() => undefined);
      c.disconnect();
      await exited();
    },
    async restart() {
      await launch();
    },
    async stop() {
      child?.kill('SIGTERM');
      await exited();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
