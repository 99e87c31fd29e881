// The relay fleet at scale (issue 10): N idle appliance tunnels over 3 relays on one Redis, then the
// drain of one relay holding M of them. The appliances run the real tunnel agent in child processes
// (two-step first login, keepalives, backoff, the key's fleet in its order); each key names the three
// relays, rotated so that a third of the agents start on each (what the load balancer does in
// production). Reports relay memory and idle CPU per tunnel, Redis memory and commands per tunnel,
// and the time until every appliance of the drained relay is CONNECTED through another one.
import { startAgentFleet, type AgentAppliance, type AgentFleet } from './lib/agent-fleet.js';
import { measureDrain, type DrainFigures } from './lib/fleet-drain.js';
import { cpuSeconds } from './lib/proc.js';
import { commandDelta, redisSnapshot, totalCalls } from './lib/redis-commandstats.js';
import { redisUsedMemory } from './lib/redis-memory.js';
import type { RelayStats } from './lib/relay-child.js';
import { startRelayFleet, type FleetKey, type FleetRelay, type RelayFleetFixture } from './lib/relay-fleet-fixture.js';
import { percentile } from './lib/stats.js';

export interface FleetScaleOptions {
  /** Idle tunnels over the 3 relays (about a third each). */
  tunnels: number;
  /** Tunnels on relay A when it is drained (more are connected to it first if needed); 0 skips the drain. */
  drainTunnels: number;
  /** Set-ups in flight at once, over all agent processes. */
  concurrency: number;
  agentProcesses: number;
  /** Idle window for relay CPU and Redis commands (several keepalive and heartbeat rounds). */
  idleWindowMs: number;
  /** How long relay memory is sampled after GC (lowest RSS kept), before and after; as idle-scale. */
  settleMs: number;
  drainTimeoutMs: number;
  log: (line: string) => void;
}

export interface RelayFigures {
  name: string;
  tunnels: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  /** (RSS after − before) ÷ tunnels added, after a forced GC. */
  kibPerTunnel: number;
  heapKiBPerTunnel: number;
  /** % of one core over the idle window. */
  idleCpuPercent: number;
  setupCpuSeconds: number;
}

export interface FleetScaleResult {
  relays: number;
  tunnels: number;
  warmup: number;
  connected: number;
  failed: number;
  setupRetries: number;
  errors: string[];
  setupSeconds: number;
  setupPerSecond: number;
  setupMsP50: number;
  setupMsP99: number;
  /** Relay CPU (all three) and agent CPU (all processes) per set-up, ms. */
  relayCpuMsPerSetup: number;
  agentCpuMsPerSetup: number;
  perRelay: RelayFigures[];
  /** Whole fleet: RSS delta ÷ tunnels, and heap + external delta ÷ tunnels, KiB. */
  kibPerTunnel: number;
  heapKiBPerTunnel: number;
  /** Sum of the relays' idle CPU, % of one core. */
  idleCpuPercent: number;
  redis: {
    /** used_memory delta ÷ sessions: issued (ISSUED) / connected (CONNECTED) / both. */
    bytesPerIssued: number;
    bytesPerConnect: number;
    bytesPerTunnel: number;
    usedMemoryMiB: number;
    idleWindowMs: number;
    /** Commands per second over the idle window (INFO commandstats delta, Lua-inner commands included). */
    commandsPerSecond: number;
    commandsPerSecondPerTunnel: number;
    idleCommands: Record<string, number>;
    idleCpuPercent: number;
    setupCommandsPerTunnel: number;
  };
  keepaliveMs: number;
  heartbeatFlushMs: number;
  agentProcesses: number;
  concurrency: number;
  drain?: DrainFigures & { extraOnA: number };
}

const KEEPALIVE_MS = 15_000;
const HEARTBEAT_FLUSH_MS = 2_000;
const WARMUP_PER_RELAY = 20;
const SETUP_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  }));
  return out;
}

/** Lowest RSS after GC over one-second samples (V8's memory reducer acts some seconds after activity). */
async function settled(relay: FleetRelay, settleMs: number): Promise<RelayStats> {
  let best = await relay.stats(true);
  const deadline = Date.now() + settleMs;
  while (Date.now() < deadline) {
    await sleep(1_000);
    const s = await relay.stats(true);
    if (s.rss < best.rss) best = s;
  }
  return best;
}

/** Home relay first, then the other two, alternating, so a drained relay's agents split over both. */
function orderFor(home: number, i: number, relays: number): number[] {
  const rest = Array.from({ length: relays - 1 }, (_, k) => (home + 1 + k) % relays);
  return [home, ...(i % 2 ? rest.reverse() : rest)];
}

const asAppliance = (k: FleetKey): AgentAppliance => ({ serial: k.serial, credential: k.credential, relays: k.relays, expiresAt: k.expiresAt, port: 22 });

async function issueMany(fleet: RelayFleetFixture, tag: string, n: number, home: (i: number) => number): Promise<FleetKey[]> {
  return pool(Array.from({ length: n }, (_, i) => i), 32, (i) => fleet.issue(`BENCHFS${tag}${String(i).padStart(6, '0')}`, orderFor(home(i), i, fleet.relays.length)));
}

async function waitForTunnels(relays: FleetRelay[], total: number, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await Promise.all(relays.map(async (r) => (await r.stats(false)).tunnels));
    if (counts.reduce((a, b) => a + b, 0) >= total || Date.now() > deadline) return counts;
    await sleep(250);
  }
}

export async function benchFleetScale(opts: FleetScaleOptions): Promise<FleetScaleResult> {
  const fleet = await startRelayFleet({ relays: 3, keepaliveMs: KEEPALIVE_MS, heartbeatFlushMs: HEARTBEAT_FLUSH_MS });
  let agents: AgentFleet | undefined;
  try {
    agents = startAgentFleet(opts.agentProcesses, { keepaliveMs: KEEPALIVE_MS, setupTimeoutMs: SETUP_TIMEOUT_MS });
    const relays = fleet.relays;
    const n = relays.length;
    // Warm-up tunnels on each relay, kept up and not counted: code compiled, pools in use.
    const warm = await issueMany(fleet, 'W', WARMUP_PER_RELAY * n, (i) => i % n);
    const w = await agents.start(warm.map(asAppliance), opts.concurrency);
    if (w.failed) throw new Error(`fleet-scale warm-up failed: ${w.errors.join(' | ')}\n${relays.map((r) => r.output()).join('\n')}`);
    await waitForTunnels(relays, warm.length, 30_000);

    const mem0 = await redisUsedMemory(fleet.redis);
    const t0 = Date.now();
    const keys = await issueMany(fleet, 'N', opts.tunnels, (i) => i % n);
    const mem1 = await redisUsedMemory(fleet.redis);
    opts.log(`fleet-scale: ${keys.length} sessions issued in ${((Date.now() - t0) / 1000).toFixed(1)} s; sampling relay memory (${opts.settleMs / 1000} s)`);
    const before = await Promise.all(relays.map((r) => settled(r, opts.settleMs)));

    const cpu0 = relays.map((r) => cpuSeconds(r.pid));
    const agentCpu0 = agents.pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const cmd0 = await redisSnapshot(fleet.redis);
    opts.log(`fleet-scale: connecting ${keys.length} agents over ${n} relays, ${opts.concurrency} in flight from ${opts.agentProcesses} processes`);
    const up = await agents.start(keys.map(asAppliance), opts.concurrency);
    const setupCpu = relays.map((r, i) => cpuSeconds(r.pid) - cpu0[i]!);
    const agentCpu = agents.pids.reduce((s, p) => s + cpuSeconds(p), 0) - agentCpu0;
    const setupSeconds = (up.finishedAt - up.startedAt) / 1000;
    opts.log(`fleet-scale: ${up.ok} tunnels up (${up.failed} failed, ${up.retries} attempts retried) in ${setupSeconds.toFixed(1)} s`);
    if (up.errors.length) opts.log(`fleet-scale: first errors: ${up.errors.slice(0, 3).join(' | ')}`);
    const counts = await waitForTunnels(relays, warm.length + up.ok, 30_000);
    await sleep(HEARTBEAT_FLUSH_MS + 500);
    const cmd1 = await redisSnapshot(fleet.redis);
    const mem2 = await redisUsedMemory(fleet.redis);
    opts.log(`fleet-scale: tunnels per relay ${relays.map((r, i) => `${r.name} ${counts[i]}`).join(', ')}; idle window ${opts.idleWindowMs / 1000} s`);

    const idleCpu0 = relays.map((r) => cpuSeconds(r.pid));
    const redisCpu0 = cpuSeconds(fleet.redisServer.pid);
    const idle0 = await redisSnapshot(fleet.redis);
    await sleep(opts.idleWindowMs);
    const idle1 = await redisSnapshot(fleet.redis);
    const idleCpu = relays.map((r, i) => ((cpuSeconds(r.pid) - idleCpu0[i]!) / (opts.idleWindowMs / 1000)) * 100);
    const redisIdleCpu = ((cpuSeconds(fleet.redisServer.pid) - redisCpu0) / (opts.idleWindowMs / 1000)) * 100;
    const after = await Promise.all(relays.map((r) => settled(r, opts.settleMs)));

    const perRelay: RelayFigures[] = relays.map((r, i) => {
      const added = Math.max(1, after[i]!.tunnels - before[i]!.tunnels);
      return {
        name: r.name,
        tunnels: after[i]!.tunnels,
        rssBeforeKiB: before[i]!.rss / 1024,
        rssAfterKiB: after[i]!.rss / 1024,
        kibPerTunnel: (after[i]!.rss - before[i]!.rss) / 1024 / added,
        heapKiBPerTunnel: (after[i]!.heapUsed + after[i]!.external - before[i]!.heapUsed - before[i]!.external) / 1024 / added,
        idleCpuPercent: idleCpu[i]!,
        setupCpuSeconds: setupCpu[i]!,
      };
    });
    const sum = (f: (i: number) => number) => relays.reduce((s, _r, i) => s + f(i), 0);
    const added = Math.max(1, sum((i) => after[i]!.tunnels - before[i]!.tunnels));
    const idleDelta = commandDelta(idle0, idle1);
    const idleCalls = totalCalls(idleDelta);
    const live = sum((i) => after[i]!.tunnels);
    const result: FleetScaleResult = {
      relays: n,
      tunnels: opts.tunnels,
      warmup: warm.length,
      connected: up.ok,
      failed: up.failed,
      setupRetries: up.retries,
      errors: up.errors,
      setupSeconds,
      setupPerSecond: up.ok / setupSeconds,
      setupMsP50: percentile(up.setupMs, 50),
      setupMsP99: percentile(up.setupMs, 99),
      relayCpuMsPerSetup: (setupCpu.reduce((a, b) => a + b, 0) * 1000) / Math.max(1, up.ok),
      agentCpuMsPerSetup: (agentCpu * 1000) / Math.max(1, up.ok),
      perRelay,
      kibPerTunnel: sum((i) => after[i]!.rss - before[i]!.rss) / 1024 / added,
      heapKiBPerTunnel: sum((i) => after[i]!.heapUsed + after[i]!.external - before[i]!.heapUsed - before[i]!.external) / 1024 / added,
      idleCpuPercent: idleCpu.reduce((a, b) => a + b, 0),
      redis: {
        bytesPerIssued: (mem1 - mem0) / keys.length,
        bytesPerConnect: (mem2 - mem1) / Math.max(1, up.ok),
        bytesPerTunnel: (mem2 - mem0) / Math.max(1, up.ok),
        usedMemoryMiB: mem2 / 2 ** 20,
        idleWindowMs: opts.idleWindowMs,
        commandsPerSecond: idleCalls / (opts.idleWindowMs / 1000),
        commandsPerSecondPerTunnel: idleCalls / (opts.idleWindowMs / 1000) / Math.max(1, live),
        idleCommands: idleDelta,
        idleCpuPercent: redisIdleCpu,
        setupCommandsPerTunnel: totalCalls(commandDelta(cmd0, cmd1)) / Math.max(1, up.ok),
      },
      keepaliveMs: KEEPALIVE_MS,
      heartbeatFlushMs: HEARTBEAT_FLUSH_MS,
      agentProcesses: opts.agentProcesses,
      concurrency: opts.concurrency,
    };
    opts.log(`fleet-scale: ${result.kibPerTunnel.toFixed(1)} KiB RSS per tunnel, Redis ${result.redis.bytesPerTunnel.toFixed(0)} B and ${result.redis.commandsPerSecond.toFixed(2)} commands/s idle`);
    if (opts.drainTunnels <= 0) return result;

    // The drain: relay A holds drainTunnels (more agents whose keys name A first are connected to it if needed).
    const a = relays[0]!;
    const onA = (await a.stats(false)).tunnels;
    const extraOnA = Math.max(0, opts.drainTunnels - onA);
    let extra: FleetKey[] = [];
    if (extraOnA > 0) {
      opts.log(`fleet-scale: relay A holds ${onA}; connecting ${extraOnA} more whose keys name A first`);
      extra = await issueMany(fleet, 'D', extraOnA, () => 0);
      const more = await agents.start(extra.map(asAppliance), opts.concurrency);
      if (more.failed) opts.log(`fleet-scale: ${more.failed} of the extra agents did not connect: ${more.errors.slice(0, 3).join(' | ')}`);
      await waitForTunnels(relays, warm.length + up.ok + more.ok, 30_000);
      await sleep(HEARTBEAT_FLUSH_MS + 500);
    }
    const drain = await measureDrain(fleet, agents, a, [...warm, ...keys, ...extra].map((k) => k.sid), { timeoutMs: opts.drainTimeoutMs, log: opts.log });
    opts.log(`fleet-scale: drain: ${drain.back}/${drain.sessions} CONNECTED elsewhere, last after ${(drain.backMs.last / 1000).toFixed(1)} s; ${drain.lost} LOST`);
    return { ...result, drain: { ...drain, extraOnA } };
  } finally {
    await agents?.close();
    await fleet.close();
  }
}
