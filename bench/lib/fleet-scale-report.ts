// The fleet-scale benchmark's rows in the printed table (against the baselines of relay-notes.md,
// the estimates docs/operations.md made before it was measured, and the goals) and its context lines.
import type { FleetScaleResult } from '../fleet-scale.bench.js';
import { type Row, fixed as f } from './report-row.js';

export const FLEET_SCALE_BASELINES = {
  /** relay-notes.md: "~20–22 KB of relay memory per idle tunnel (bare prototype)". */
  kibPerTunnel: 21,
  /** relay-notes.md: "~9% of one core at 5,000 tunnels" (15 s keepalives both ways). */
  idleCpuPercentPer1000: 9 / 5,
  /** relay-notes.md: "5,000 appliances reconnecting at once need ~20 s". */
  drain5000Seconds: 20,
  /** docs/operations.md before this benchmark: "~1.7 KB of memory" per CONNECTED session. */
  redisBytesPerSession: 1_700,
  /** docs/operations.md before this benchmark: "~1–2 [Redis ops] per relay per second" when idle. */
  redisOpsPerRelayPerSecond: 1.5,
} as const;

export const FLEET_SCALE_GOALS = {
  /** Issue 2: at most 32 KiB of relay memory per idle tunnel. */
  kibPerTunnel: 32,
  /** A planned move is not a LOST. */
  lost: 0,
} as const;

const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const ratio = (x: number, base: number) => (Number.isFinite(x) && base ? `${(x / base).toFixed(2)}×` : '');

export function fleetScaleRows(r: FleetScaleResult | undefined): Row[] {
  if (!r) return [];
  const b = FLEET_SCALE_BASELINES;
  const live = r.perRelay.reduce((s, x) => s + x.tunnels, 0);
  const idleBase = (b.idleCpuPercentPer1000 * live) / 1000;
  const opsBase = (b.redisOpsPerRelayPerSecond * r.relays) / Math.max(1, live);
  const rows: Row[] = [
    [`Fleet scale: tunnels up / failed (${int(r.tunnels)} over ${r.relays} relays, + ${r.warmup} warm-up)`, `${int(r.connected)} / ${int(r.failed)} (${r.perRelay.map((x) => `${x.name} ${int(x.tunnels)}`).join(', ')})`, '', '', `${int(r.tunnels)} / 0`, r.connected === r.tunnels ? 'yes' : 'no'],
    [`Fleet scale: set-up time, s (${r.concurrency} in flight) / set-ups per s`, `${f(r.setupSeconds)} / ${f(r.setupPerSecond)}`, '', '', '', ''],
    [`Fleet scale: relay memory per idle tunnel, KiB RSS, fleet (per relay)`, `${f(r.kibPerTunnel)} (${r.perRelay.map((x) => f(x.kibPerTunnel)).join(' / ')})`, `~${b.kibPerTunnel}`, ratio(r.kibPerTunnel, b.kibPerTunnel), `≤ ${FLEET_SCALE_GOALS.kibPerTunnel}`, r.kibPerTunnel <= FLEET_SCALE_GOALS.kibPerTunnel ? 'yes' : 'no'],
    [`Fleet scale: relay JS heap + external per idle tunnel, KiB (per relay)`, `${f(r.heapKiBPerTunnel)} (${r.perRelay.map((x) => f(x.heapKiBPerTunnel)).join(' / ')})`, '', '', '', ''],
    [`Fleet scale: relay idle CPU, % of one core, all relays (per relay), ${int(live)} tunnels`, `${f(r.idleCpuPercent)} (${r.perRelay.map((x) => f(x.idleCpuPercent)).join(' / ')})`, `~${f(idleBase)} (9% per 5,000)`, ratio(r.idleCpuPercent, idleBase), '', ''],
    [`Fleet scale: Redis used_memory per tunnel, bytes (issued + connected)`, `${int(r.redis.bytesPerTunnel)} (${int(r.redis.bytesPerIssued)} + ${int(r.redis.bytesPerConnect)})`, `~${int(b.redisBytesPerSession)} (operations.md estimate)`, ratio(r.redis.bytesPerTunnel, b.redisBytesPerSession), '', ''],
    [
      `Fleet scale: Redis commands/s idle, total / per tunnel (${f(r.redis.idleWindowMs / 1000, 0)} s window)`,
      `${f(r.redis.commandsPerSecond, 2)} / ${r.redis.commandsPerSecondPerTunnel.toExponential(1)}`,
      `~${f(b.redisOpsPerRelayPerSecond * r.relays, 1)} / ${opsBase.toExponential(1)} (estimate)`,
      ratio(r.redis.commandsPerSecond, b.redisOpsPerRelayPerSecond * r.relays),
      '',
      '',
    ],
  ];
  const d = r.drain;
  if (d) {
    rows.push(
      [
        `Fleet drain: SIGTERM relay ${d.relay} (${int(d.sessions)} tunnels) → all CONNECTED via other relays, s (p50 / p90 / last)`,
        d.timedOut ? `${int(d.back)} of ${int(d.sessions)} back in ${f(d.backMs.last / 1000)} (timed out)` : `${f(d.backMs.p50 / 1000)} / ${f(d.backMs.p90 / 1000)} / ${f(d.backMs.last / 1000)}`,
        `~${b.drain5000Seconds} for 5,000 (at ~250 set-ups/s per core)`,
        ratio(d.backMs.last / 1000, (b.drain5000Seconds * d.sessions) / 5_000),
        'all back',
        d.back === d.sessions ? 'yes' : 'no',
      ],
      [`Fleet drain: sessions marked LOST (relays' takeovers + monitor sweeps)`, `${int(d.lost)} (any session: ${int(d.lostAny)}; by the monitor: ${int(d.monitorLost)})`, '', '', `${FLEET_SCALE_GOALS.lost}`, d.lost === FLEET_SCALE_GOALS.lost ? 'yes' : 'no'],
      [`Fleet drain: reconnects per s over the move / appliance gap p50 / p99, s`, `${f(d.perSecond)} / ${f(d.agentGapMs.p50 / 1000)} / ${f(d.agentGapMs.p99 / 1000)}`, '', '', '', ''],
    );
  }
  return rows;
}

export function fleetScaleContext(r: FleetScaleResult | undefined): string[] {
  if (!r) return [];
  const top = Object.entries(r.redis.idleCommands)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 6)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `fleet scale: ${r.relays} relay children on one Redis, ${r.agentProcesses} agent processes running TunnelAgent (two-step first login, keepalive ${r.keepaliveMs / 1000} s both ways, heartbeat flush ${r.heartbeatFlushMs / 1000} s); ` +
      `set-up p50 / p99 ${f(r.setupMsP50, 0)} / ${f(r.setupMsP99, 0)} ms, ${r.setupRetries} attempts retried; CPU per set-up: relays ${f(r.relayCpuMsPerSetup, 2)} ms, agents ${f(r.agentCpuMsPerSetup, 2)} ms; ` +
      `Redis commands per set-up ${f(r.redis.setupCommandsPerTunnel)}; Redis used_memory ${f(r.redis.usedMemoryMiB)} MiB; Redis idle CPU ${f(r.redis.idleCpuPercent, 2)} % of a core; idle commands: ${top}`,
    `fleet scale relays: ${r.perRelay.map((x) => `${x.name} ${x.tunnels} tunnels, RSS ${f(x.rssBeforeKiB / 1024)} → ${f(x.rssAfterKiB / 1024)} MiB, set-up CPU ${f(x.setupCpuSeconds)} s`).join('; ')}`,
  ];
  if (r.errors.length) lines.push(`fleet scale set-up errors (first): ${r.errors.slice(0, 3).join(' | ')}`);
  const d = r.drain;
  if (d) {
    lines.push(
      `fleet drain: relay ${d.relay} held ${d.relayTunnels} tunnels (${d.extraOnA} connected to it for this phase); its report: ${d.drainReport ? `${d.drainReport.moved} sent on, ${d.drainReport.cut} channels cut, ${d.drainReport.tookMs} ms` : 'none'}; exited ${f(d.exitMs / 1000, 1)} s after SIGTERM; ` +
        `went to ${Object.entries(d.to).map(([k, v]) => `${k} ${v}`).join(', ')}; records at the end: ${d.recordsElsewhere} CONNECTED elsewhere${Object.keys(d.recordsOther).length ? `, ${Object.entries(d.recordsOther).map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}; ` +
        `first back after ${f(d.backMs.first / 1000)} s, back by 5 s steps ${d.every5s.join(', ')}; p99 ${f(d.backMs.p99 / 1000)} s; ${d.agentRetries} agent attempts retried (${Object.entries(d.agentRetryKinds).sort((x, y) => y[1] - x[1]).slice(0, 5).map(([k, v]) => `${v}× "${k}"`).join('; ')}); ` +
        `successful dials during the move p50 / p99 / max ${f(d.agentDialMs.p50 / 1000)} / ${f(d.agentDialMs.p99 / 1000)} / ${f(d.agentDialMs.max / 1000)} s (${d.agentDialMs.count}); ` +
        `CPU over the move: ${Object.entries(d.takerCpuSeconds).map(([k, v]) => `relay ${k} ${f(v)} s`).join(', ')}, Redis ${f(d.redisCpuSeconds)} s, agent processes ${f(d.agentCpuSeconds)} s; monitor sweeps ${d.monitorSweeps}`,
    );
  }
  return lines;
}
