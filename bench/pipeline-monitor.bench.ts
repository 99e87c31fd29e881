// Monitor cost: one tunnel-monitor sweep (sweepStaleTunnels, the function the repeatable job runs)
// over N CONNECTED sessions of which 0, 1% and 10% have a heartbeat older than the grace period.
// Reports wall time, Redis commands and Redis main-thread CPU per sweep, so one can see whether the
// cost follows the stale sessions or all of them. Sessions are seeded through the SessionStore.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createLogger } from '../shared/logger.js';
import { openRedis } from '../shared/redis.js';
import { newId } from '../shared/session/issue-key.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import { sweepStaleTunnels } from '../workers/tunnel-monitor.worker.js';
import { commandDelta, redisSnapshot as snapshot, totalCalls } from './lib/redis-commandstats.js';
import { startRedisServer } from './lib/redis-server.js';
import { median } from './lib/stats.js';

export interface PipelineMonitorOptions {
  sessions: number;
  /** Stale counts to sweep, e.g. [0, 100, 1000]. */
  staleCounts: number[];
  runs: number;
  log: (line: string) => void;
}

export interface SweepFigures {
  stale: number;
  /** Sessions marked LOST by the sweep (should equal `stale`). */
  lost: number;
  /** Medians over the runs. */
  ms: number;
  redisCommands: number;
  /** Commands the sweeper sent (each a round trip; Lua scripts count once). */
  roundTrips: number;
  /** Redis main-thread CPU (INFO cpu), ms. */
  redisCpuMs: number;
  /** Time Redis spent executing the sweep's commands (INFO commandstats usec), ms. */
  redisExecMs: number;
  /** CPU of the sweeping process, ms. */
  sweeperCpuMs: number;
  commands: Record<string, number>;
}

export interface PipelineMonitorResult {
  sessions: number;
  graceMs: number;
  seedSeconds: number;
  sweeps: SweepFigures[];
}

const GRACE_MS = 45_000;

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export async function benchPipelineMonitor(o: PipelineMonitorOptions): Promise<PipelineMonitorResult> {
  const server = await startRedisServer();
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  const seeder = openRedis(server.url, { name: 'bench-seed' });
  const sweeper = openRedis(server.url, { name: 'bench-sweep' });
  const admin = openRedis(server.url, { name: 'bench-info' });
  const seedStore = new RedisSessionStore(seeder, prefix);
  const sweepStore = new RedisSessionStore(sweeper, prefix);
  // Counts what the sweeper sends; commandstats below also counts the commands run inside scripts.
  let sent = 0;
  const send = sweeper.sendCommand.bind(sweeper);
  sweeper.sendCommand = ((...args: Parameters<typeof send>) => {
    sent++;
    return send(...args);
  }) as typeof sweeper.sendCommand;
  const logger = createLogger('bench-monitor', 'silent');
  try {
    const t0 = performance.now();
    const ids = Array.from({ length: o.sessions }, () => newId());
    const now0 = Date.now();
    await inBatches([...ids.keys()], 500, async (n) => {
      const id = ids[n] as string;
      await seedStore.create(
        { id, jti: newId(), serial: `MON-${n}`, product: 'sma', version: '10.1', ports: [22, 443], tunnelPub: randomBytes(32), issuedAt: now0, expiresAt: now0 + 86_400_000 },
        'operator:bench',
      );
      await seedStore.activate(id, randomBytes(32), { actor: 'relay:bench', relayId: 'bench', now: Date.now() });
    });
    const seedSeconds = (performance.now() - t0) / 1000;
    o.log(`pipeline-monitor: ${o.sessions} CONNECTED sessions seeded in ${seedSeconds.toFixed(1)} s`);

    const sweeps: SweepFigures[] = [];
    for (const stale of o.staleCounts) {
      const runs: Omit<SweepFigures, 'stale' | 'commands'>[] = [];
      let commands: Record<string, number> = {};
      for (let r = 0; r < o.runs; r++) {
        // Every heartbeat fresh, then `stale` of them (a random choice) older than the grace period.
        const now = Date.now();
        for (let i = 0; i < ids.length; i += 1_000) {
          await seeder.zadd(seedStore.keys.lastSeen, ...ids.slice(i, i + 1_000).flatMap((id) => [now, id]));
        }
        const chosen = [...ids].sort(() => Math.random() - 0.5).slice(0, stale);
        if (chosen.length) await seeder.zadd(seedStore.keys.lastSeen, ...chosen.flatMap((id) => [now - GRACE_MS - 5_000, id]));
        const before = await snapshot(admin);
        const sent0 = sent;
        const cpu0 = process.cpuUsage();
        const w0 = performance.now();
        const report = await sweepStaleTunnels({ sessions: sweepStore, now: () => Date.now(), logger, graceMs: GRACE_MS });
        const ms = performance.now() - w0;
        const cpu = process.cpuUsage(cpu0);
        const roundTrips = sent - sent0;
        const after = await snapshot(admin);
        const delta = commandDelta(before, after);
        commands = delta;
        runs.push({
          lost: report.lost,
          ms,
          roundTrips,
          redisCommands: totalCalls(delta),
          redisCpuMs: (after.cpu - before.cpu) * 1000,
          redisExecMs: (after.usec - before.usec) / 1000,
          sweeperCpuMs: (cpu.user + cpu.system) / 1000,
        });
        // Back to CONNECTED, as a reconnect through the relay would do.
        await inBatches(chosen, 200, (id) => seedStore.apply(id, 'connect', { actor: 'relay:bench', relayId: 'bench', now: Date.now() }));
      }
      const m = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
      const fig: SweepFigures = { stale, lost: m((x) => x.lost), ms: m((x) => x.ms), roundTrips: m((x) => x.roundTrips), redisCommands: m((x) => x.redisCommands), redisCpuMs: m((x) => x.redisCpuMs), redisExecMs: m((x) => x.redisExecMs), sweeperCpuMs: m((x) => x.sweeperCpuMs), commands };
      sweeps.push(fig);
      o.log(`pipeline-monitor: ${o.sessions} sessions, ${stale} stale: ${fig.ms.toFixed(1)} ms, ${fig.roundTrips} round trips, ${fig.redisCommands} Redis commands (with those in scripts), Redis CPU ${fig.redisCpuMs.toFixed(1)} ms (median of ${o.runs})`);
    }
    return { sessions: o.sessions, graceMs: GRACE_MS, seedSeconds, sweeps };
  } finally {
    for (const c of [seeder, sweeper, admin]) c.disconnect();
    await server.stop();
  }
}
