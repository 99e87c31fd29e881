// Idle scale: N simulated appliance tunnels (each its own issued session, handshake, auth and
// `tcpip-forward`) on one relay process. Reports relay memory per tunnel (RSS and heap after GC),
// connection set-up rate (wall clock, and per second of relay CPU), and the relay's idle CPU.
import { readdirSync } from 'node:fs';
import { startFleet, type FleetAppliance } from './lib/appliance-fleet.js';
import { cpuSeconds } from './lib/proc.js';
import { percentile } from './lib/stats.js';
import type { RelayStats } from './lib/relay-child.js';
import { startBenchTether, type BenchTether } from './lib/tether-fixture.js';

export interface IdleScaleOptions {
  tunnels: number;
  /** Set-ups in flight at once, over all client processes. */
  concurrency: number;
  clientProcesses: number;
  /** Idle window over which the relay's CPU is read (one keepalive round by default); 0 skips it. */
  idleWindowMs: number;
  /** How long memory is sampled (after GC, lowest RSS kept) before and after; see settledStats. */
  settleMs: number;
  log: (line: string) => void;
}

export interface IdleScaleResult {
  tunnels: number;
  connected: number;
  failed: number;
  errors: string[];
  concurrency: number;
  clientProcesses: number;
  relay: { rssBeforeKiB: number; rssAfterKiB: number; heapBeforeKiB: number; heapAfterKiB: number; fds: number };
  /** (RSS after − RSS before) ÷ tunnels, both after a forced GC. */
  kibPerTunnel: number;
  heapKiBPerTunnel: number;
  setupSeconds: number;
  /** Tunnels set up per wall-clock second (handshake + auth + connect transition + forward). */
  setupPerSecond: number;
  relayCpuSeconds: number;
  /** Tunnels set up per second of relay CPU: the rate one relay core sustains. */
  setupPerRelayCoreSecond: number;
  redisCpuSeconds: number;
  setupMsP50: number;
  setupMsP99: number;
  idle?: { windowMs: number; relayCpuPercent: number; keepaliveMs: number };
}

const KEEPALIVE_MS = 15_000;
/** Tunnels connected before the baseline is taken (not counted in the figures). */
const WARMUP = 20;

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

/**
 * Relay memory after a forced GC, settled: V8's idle memory reducer gives back ~10 MiB of heap
 * some 6–10 s after allocation calms down, independently of the tunnels held. The lowest RSS of
 * one-second samples over `settleMs` (≥ 12 s to include it) is taken, the same way before and after.
 */
async function settledStats(tether: BenchTether, settleMs: number): Promise<RelayStats> {
  let best = await tether.relayStats(true);
  const deadline = Date.now() + settleMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    const s = await tether.relayStats(true);
    if (s.rss < best.rss) best = s;
  }
  return best;
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export async function benchIdleScale(opts: IdleScaleOptions): Promise<IdleScaleResult> {
  const tether = await startBenchTether({ keepaliveMs: KEEPALIVE_MS });
  const fleet = startFleet(opts.clientProcesses, { host: '127.0.0.1', port: tether.relayPort, fp: tether.hostKey.fingerprint }, KEEPALIVE_MS);
  try {
    const appliances: FleetAppliance[] = [];
    const warmup: FleetAppliance[] = [];
    const serials = Array.from({ length: WARMUP + opts.tunnels }, (_, i) => `BENCHIDLE${String(i).padStart(6, '0')}`);
    await pool(serials, 32, async (serial) => {
      const s = await tether.issue(serial);
      (warmup.length < WARMUP ? warmup : appliances).push({ serial, privateKey: s.privateKey, port: 22 });
    });
    // A few tunnels first, kept up: code paths compiled, buffers and Redis pipelines in use, so the
    // baseline holds everything but the per-tunnel cost.
    const warm = await fleet.connect(warmup, opts.concurrency);
    if (warm.failed) throw new Error(`idle-scale warm-up failed: ${warm.errors.join(' | ')}\n${tether.relayOutput()}`);
    opts.log(`idle-scale: ${appliances.length} sessions issued; connecting with ${opts.concurrency} in flight from ${opts.clientProcesses} processes`);

    const before = await settledStats(tether, opts.settleMs);
    const cpu0 = cpuSeconds(tether.relayPid);
    const redis0 = cpuSeconds(tether.redisServer.pid);
    const up = await fleet.connect(appliances, opts.concurrency);
    const relayCpu = cpuSeconds(tether.relayPid) - cpu0;
    const redisCpu = cpuSeconds(tether.redisServer.pid) - redis0;
    const setupSeconds = (up.finishedAt - up.startedAt) / 1000;
    opts.log(`idle-scale: ${up.ok} tunnels up (${up.failed} failed) in ${setupSeconds.toFixed(1)} s`);
    if (up.failed) opts.log(`idle-scale: first errors: ${up.errors.join(' | ')}`);

    // The connect transitions and forwards are answered before the last one is counted; wait
    // until the relay holds every tunnel, and one heartbeat flush has gone by.
    const deadline = Date.now() + 30_000;
    while ((await tether.relayStats(false)).tunnels < WARMUP + up.ok && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2_500));

    let idle: IdleScaleResult['idle'];
    if (opts.idleWindowMs > 0) {
      const c0 = cpuSeconds(tether.relayPid);
      await new Promise((r) => setTimeout(r, opts.idleWindowMs));
      idle = { windowMs: opts.idleWindowMs, relayCpuPercent: ((cpuSeconds(tether.relayPid) - c0) / (opts.idleWindowMs / 1000)) * 100, keepaliveMs: KEEPALIVE_MS };
    }
    const after = await settledStats(tether, opts.settleMs);
    const n = Math.max(1, after.tunnels - before.tunnels);
    return {
      tunnels: opts.tunnels,
      connected: up.ok,
      failed: up.failed,
      errors: up.errors,
      concurrency: opts.concurrency,
      clientProcesses: opts.clientProcesses,
      relay: {
        rssBeforeKiB: before.rss / 1024,
        rssAfterKiB: after.rss / 1024,
        heapBeforeKiB: before.heapUsed / 1024,
        heapAfterKiB: after.heapUsed / 1024,
        fds: openFds(tether.relayPid),
      },
      kibPerTunnel: (after.rss - before.rss) / 1024 / n,
      heapKiBPerTunnel: (after.heapUsed + after.external - before.heapUsed - before.external) / 1024 / n,
      setupSeconds,
      setupPerSecond: up.ok / setupSeconds,
      relayCpuSeconds: relayCpu,
      setupPerRelayCoreSecond: up.ok / relayCpu,
      redisCpuSeconds: redisCpu,
      setupMsP50: percentile(up.setupMs, 50),
      setupMsP99: percentile(up.setupMs, 99),
      idle,
    };
  } finally {
    await fleet.close();
    await tether.close();
  }
}
