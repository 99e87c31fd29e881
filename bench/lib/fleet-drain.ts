// The drain measurement of fleet-scale: SIGTERM one relay of a running fleet and time, from the
// session events Redis publishes, until every session it held is CONNECTED again through another
// relay; count the LOST events meanwhile (a planned move must make none), with the tunnel monitor's
// sweep running on its production schedule so that a move too slow for it would show as LOST too.
import { createLogger } from '../../shared/logger.js';
import { sweepStaleTunnels } from '../../workers/tunnel-monitor.worker.js';
import type { AgentFleet } from './agent-fleet.js';
import { cpuSeconds } from './proc.js';
import type { FleetRelay, RelayFleetFixture } from './relay-fleet-fixture.js';
import { watchSessionEvents, whereAre } from './session-event-watch.js';
import { percentile } from './stats.js';

export interface DrainFigures {
  relay: string;
  /** Sessions CONNECTED with relayId = the drained relay at SIGTERM. */
  sessions: number;
  /** Tunnels the relay held by its own count just before. */
  relayTunnels: number;
  /** Of those sessions, CONNECTED again through another relay (events), within the timeout. */
  back: number;
  /** SIGTERM → that session's CONNECTED event on another relay, received here: ms. */
  backMs: { first: number; p50: number; p90: number; p99: number; last: number };
  /** Sessions back after 5 s, 10 s, … (cumulative), up to the last. */
  every5s: number[];
  /** Reconnects per second over the whole move (back ÷ last). */
  perSecond: number;
  /** LOST events for the drained sessions / for any session, while watching. */
  lost: number;
  lostAny: number;
  /** Sessions the monitor's sweeps marked LOST (included in `lostAny`). */
  monitorLost: number;
  monitorSweeps: number;
  /** Where they went (relay name → sessions), from the events. */
  to: Record<string, number>;
  /** Read back from the session records at the end: CONNECTED on another relay / anything else. */
  recordsElsewhere: number;
  recordsOther: Record<string, number>;
  /** The relay's own report (relay-drain.ts) and SIGTERM → process exit, ms. */
  drainReport: { moved: number; cut: number; tookMs: number } | undefined;
  exitMs: number;
  /** The agents' view: connection gap per reconnect (drop → CONNECTED), and failed attempts retried. */
  agentGapMs: { p50: number; p99: number; count: number };
  agentRetries: number;
  agentErrors: string[];
  /** Failed attempts by kind during the move (lost connection, refused by the drained relay, handshake timeout, …). */
  agentRetryKinds: Record<string, number>;
  /** Successful dials during the move: TCP connect → logged in, ms. */
  agentDialMs: { p50: number; p99: number; max: number; count: number };
  /** CPU seconds of the relays that took the sessions over, and of Redis, over the move. */
  takerCpuSeconds: Record<string, number>;
  redisCpuSeconds: number;
  /** CPU seconds of the simulated appliances' processes over the move (on this machine they share the cores). */
  agentCpuSeconds: number;
  timedOut: boolean;
}

/** Production schedule of the monitor sweep: TETHER_LOST_GRACE_MS 45 s, every grace / 3. */
const GRACE_MS = 45_000;
const SWEEP_EVERY_MS = 15_000;

export async function measureDrain(
  fleet: RelayFleetFixture,
  agents: AgentFleet,
  victim: FleetRelay,
  sids: readonly string[],
  opts: { timeoutMs: number; log: (line: string) => void },
): Promise<DrainFigures> {
  const where = await whereAre(fleet.redis, fleet.prefix, sids);
  const held = new Set(sids.filter((sid) => where.get(sid)?.relayId === victim.id && where.get(sid)?.state === 'CONNECTED'));
  const relayTunnels = (await victim.stats(false)).tunnels;
  const others = fleet.relays.filter((r) => r !== victim);
  const nameOf = new Map(fleet.relays.map((r) => [r.id, r.name]));
  const watch = await watchSessionEvents(fleet.redisServer.url, fleet.prefix);
  const logger = createLogger('bench-monitor', 'warn');
  let monitorLost = 0;
  let monitorSweeps = 0;
  let sweeping: Promise<void> = Promise.resolve();
  const sweeper = setInterval(() => {
    sweeping = sweepStaleTunnels({ sessions: fleet.sessions, now: () => Date.now(), logger, graceMs: GRACE_MS }).then(
      (r) => {
        monitorSweeps++;
        monitorLost += r.lost;
      },
      (err: unknown) => opts.log(`fleet-scale: monitor sweep failed: ${(err as Error).message}`),
    );
  }, SWEEP_EVERY_MS);
  const cpu0 = others.map((r) => cpuSeconds(r.pid));
  const redisCpu0 = cpuSeconds(fleet.redisServer.pid);
  const agentCpu = () => agents.pids.reduce((sum, p) => sum + cpuSeconds(p), 0);
  const agentCpu0 = agentCpu();
  opts.log(`fleet-scale: SIGTERM to relay ${victim.name} holding ${relayTunnels} tunnels (${held.size} sessions name it)`);
  const t0 = Date.now();
  const terminated = victim.terminate();
  let exitMs = Number.NaN;
  void terminated.then(({ exitedAt }) => (exitMs = exitedAt - t0));

  const backAt = new Map<string, number>();
  const to: Record<string, number> = {};
  let lost = 0;
  let lostAny = 0;
  let seen = 0;
  let lastLog = t0;
  const scan = () => {
    const events = watch.events;
    for (; seen < events.length; seen++) {
      const e = events[seen]!;
      if (e.outcome === 'lost') {
        lostAny++;
        if (held.has(e.sid)) lost++;
      }
      if (held.has(e.sid) && e.to === 'CONNECTED' && e.relay && e.relay !== victim.id && !backAt.has(e.sid)) {
        backAt.set(e.sid, e.receivedAt - t0);
        const name = nameOf.get(e.relay) ?? e.relay;
        to[name] = (to[name] ?? 0) + 1;
      }
    }
  };
  while (backAt.size < held.size && Date.now() - t0 < opts.timeoutMs) {
    await new Promise((r) => setTimeout(r, 250));
    scan();
    if (Date.now() - lastLog >= 5_000) {
      lastLog = Date.now();
      opts.log(`fleet-scale: drain +${((lastLog - t0) / 1000).toFixed(0)} s: ${backAt.size}/${held.size} CONNECTED elsewhere, ${lost} LOST`);
    }
  }
  const timedOut = backAt.size < held.size;
  const takerCpu = Object.fromEntries(others.map((r, i) => [r.name, cpuSeconds(r.pid) - cpu0[i]!]));
  const redisCpuSeconds = cpuSeconds(fleet.redisServer.pid) - redisCpu0;
  const agentCpuSeconds = agentCpu() - agentCpu0;
  const { drained } = await terminated;
  // A little longer for late LOSTs (a relay's, or one more sweep), then the records as they are.
  await new Promise((r) => setTimeout(r, 3_000));
  clearInterval(sweeper);
  await sweeping;
  scan();
  await watch.close();
  const final = await whereAre(fleet.redis, fleet.prefix, [...held]);
  let recordsElsewhere = 0;
  const recordsOther: Record<string, number> = {};
  for (const w of final.values()) {
    if (w.state === 'CONNECTED' && w.relayId && w.relayId !== victim.id) recordsElsewhere++;
    else {
      const k = `${w.state ?? 'missing'} on ${nameOf.get(w.relayId ?? '') ?? w.relayId ?? '-'}`;
      recordsOther[k] = (recordsOther[k] ?? 0) + 1;
    }
  }
  const status = await agents.status();
  const gaps = status.reconnects.filter((r) => r.at >= t0).map((r) => r.gapMs);
  const times = [...backAt.values()];
  const last = times.length ? Math.max(...times) : Number.NaN;
  return {
    relay: victim.name,
    sessions: held.size,
    relayTunnels,
    back: backAt.size,
    backMs: { first: times.length ? Math.min(...times) : Number.NaN, p50: percentile(times, 50), p90: percentile(times, 90), p99: percentile(times, 99), last },
    every5s: Array.from({ length: Number.isFinite(last) ? Math.ceil(last / 5_000) : 0 }, (_, i) => times.filter((t) => t <= (i + 1) * 5_000).length),
    perSecond: backAt.size / (last / 1000),
    lost,
    lostAny,
    monitorLost,
    monitorSweeps,
    to,
    recordsElsewhere,
    recordsOther,
    drainReport: drained ? { moved: drained.moved, cut: drained.cut, tookMs: drained.tookMs } : undefined,
    exitMs,
    agentGapMs: { p50: percentile(gaps, 50), p99: percentile(gaps, 99), count: gaps.length },
    agentRetries: status.retries,
    agentErrors: status.errors,
    agentRetryKinds: status.retryKinds,
    agentDialMs: { p50: percentile(status.dialMs, 50), p99: percentile(status.dialMs, 99), max: status.dialMs.length ? Math.max(...status.dialMs) : Number.NaN, count: status.dialMs.length },
    takerCpuSeconds: takerCpu,
    redisCpuSeconds,
    agentCpuSeconds,
    timedOut,
  };
}
