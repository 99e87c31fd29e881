// A Redis Sentinel set-up on loopback for failover tests: Debian's redis-server as primary and as
// replica, and three redis-sentinel processes watching them (quorum 2, a primary is down after 1 s).
// Everything lives in one temp dir and is killed and removed by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitReady } from './redis-server.js';

export interface SentinelSet {
  name: string;
  sentinels: { host: string; port: number }[];
  /** Ports of the two data servers: [first primary, first replica]. */
  ports: [number, number];
  /** The port of the server the sentinels name as primary now. */
  primaryPort(): Promise<number>;
  /** SIGKILL of the server that is primary now; resolves with its port. */
  killPrimary(): Promise<number>;
  stop(): Promise<void>;
}

const NAME = 'tether-primary';

const ready = (port: number) => waitReady(`redis://127.0.0.1:${port}`);

export async function startSentinelSet(): Promise<SentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-sentinel-'));
  const children = new Map<number, ChildProcess>();
  const server = async (port: number, replicaOf?: number) => {
    const data = mkdtempSync(join(dir, `redis-${port}-`));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--appendonly', 'yes', '--hz', '100', '--save', '', '--maxclients', '10000'];
    if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    children.set(port, spawn('redis-server', args, { stdio: 'ignore' }));
    await ready(port);
  };
  const [p0, p1, ...sPorts] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  await server(p0!);
  await server(p1!, p0);
  for (const port of sPorts) {
    // Sentinel rewrites its config file: each gets its own, in the temp dir.
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${NAME} 127.0.0.1 ${p0} 2`,
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 10000`,
        `sentinel parallel-syncs ${NAME} 1`,
        '',
      ].join('\n'),
    );
    children.set(port, spawn('redis-sentinel', [conf], { stdio: 'ignore' }));
    await ready(port);
  }
  const sentinels = sPorts.map((port) => ({ host: '127.0.0.1', port }));
  const ask = async (): Promise<number> => {
    for (const s of sentinels) {
      const c = new Redis({ ...s, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const [, port] = (await c.call('SENTINEL', 'get-master-addr-by-name', NAME)) as [string, string];
        return Number(port);
      } catch {
        // the next one
      } finally {
        c.disconnect();
      }
    }
    throw new Error('no sentinel answers');
  };
  // The sentinels must know the replica before a failover can pick it.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const c = new Redis({ ...sentinels[0]!, maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    const replicas = (await c.call('SENTINEL', 'replicas', NAME).catch(() => [])) as unknown[];
    c.disconnect();
    if (replicas.length > 0) break;
    if (Date.now() > deadline) throw new Error('sentinels never saw the replica');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name: NAME,
    sentinels,
    ports: [p0!, p1!],
    primaryPort: ask,
    async killPrimary() {
      const port = await ask();
      const child = children.get(port);
      await new Promise<void>((resolve) => {
        if (!child || child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
      return port;
    },
    async stop() {
      await Promise.all(
        [...children.values()].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
