// The printed result: one Markdown table of figures beside the baselines measured on this machine
// class (../shared/reference/relay-notes.md) and the goals of issue 2, then the context lines
// (ciphers, versions, sizes, load) a reader needs to judge the figures. Goals are not assertions.
import type { EnableLatencyResult } from '../enable-latency.bench.js';
import type { IdleScaleResult } from '../idle-scale.bench.js';
import type { PipelineExpiryResult } from '../pipeline-expiry.bench.js';
import type { PipelineMonitorResult } from '../pipeline-monitor.bench.js';
import type { PipelineTeardownResult } from '../pipeline-teardown.bench.js';
import type { PipelineWebhookResult } from '../pipeline-webhook.bench.js';
import type { PathResult, ThroughputResult } from '../throughput.bench.js';

import type { OneClickResult } from '../oneclick.bench.js';
import type { ConsoleBenchResult } from '../console.bench.js';
import { consoleContext, consoleRows } from './console-report.js';
import type { ServiceBenchResult } from '../appliance-service.bench.js';
import { serviceContext, serviceRows } from './service-report.js';
import type { FleetBenchResult } from '../fleet.bench.js';
import { fleetContext, fleetRows } from './fleet-report.js';
import type { FleetScaleResult } from '../fleet-scale.bench.js';
import { fleetScaleContext, fleetScaleRows } from './fleet-scale-report.js';
import type { RelayCoresResult } from '../relay-cores.bench.js';
import { relayCoresContext, relayCoresRows } from './relay-cores-report.js';
import { type Row, fixed as f, percent as pct } from './report-row.js';

export interface BenchResults {
  throughput?: ThroughputResult;
  idleScale?: IdleScaleResult;
  enableLatency?: EnableLatencyResult;
  oneClick?: OneClickResult;
  pipelineWebhook?: PipelineWebhookResult;
  pipelineExpiry?: PipelineExpiryResult;
  pipelineTeardown?: PipelineTeardownResult;
  pipelineMonitor?: PipelineMonitorResult;
  console?: ConsoleBenchResult;
  applianceService?: ServiceBenchResult;
  fleet?: FleetBenchResult;
  fleetScale?: FleetScaleResult;
  relayCores?: RelayCoresResult;
  errors: { bench: string; message: string }[];
}

/** Baselines from relay-notes.md (prototype, 2 shared cores, ssh2 native binding). */
export const BASELINES = {
  relayMbpsChacha: 174,
  sshdMbpsChacha: 152,
  relayCpuPerGiBChacha: 3.9,
  sshdCpuPerGiBChacha: 6.5,
  relayMbpsGcm: 237,
  sshdMbpsGcm: 226,
  relayCpuPerGiBGcm: 3.3,
  sshdCpuPerGiBGcm: 3.9,
  /** "~20–22 KB per idle tunnel (bare prototype)". */
  kibPerTunnel: 21,
  /** "~3.5–4 ms of relay CPU per handshake: ~250 connections/s per core". */
  setupsPerCoreSecond: 250,
  /** "~9% of one core at 5,000 tunnels", scaled per tunnel. */
  idleCpuPercentPer1000: 9 / 5,
  /** "Raw add+process of trivial jobs, one process, concurrency 50: ~4,800 jobs/s". */
  bullmqJobsPerSecond: 4_800,
  /** Delayed-job lateness with `hz 100`, 1,000 jobs spread over 10 s: p50 10 ms / p99 18 ms. */
  delayedP50Ms: 10,
  delayedP99Ms: 18,
  /** "A burst of 1,000 due in the same instant: p99 ~360 ms". */
  burstP99Ms: 360,
} as const;

export const GOALS = {
  throughputRatio: 1.3,
  cpuPerGiB: 2.5,
  kibPerTunnel: 32,
  setupsPerCoreSecond: 250,
  enableToReadyMs: 300,
  /** Issue 3: webhook → mail p99 under 250 ms at 100 tickets/s. */
  webhookToMailP99Ms: 250,
  ticketsPerSecond: 500,
  expirySpreadP99Ms: 50,
  expiryBurstP99Ms: 1_000,
  teardownP99Ms: 1_000,
} as const;

/** MB/s a path could reach were every CPU busy with it: CPUs ÷ its whole-machine CPU-s per GiB. */
const ceilingMbps = (vcpus: number, p: PathResult) => (vcpus * 2 ** 30) / p.medianMachineCpuPerGiB / 1e6;
const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
const atLeast = (x: number, goal: number) => (Number.isFinite(x) ? (x >= goal ? 'yes' : 'no') : 'n/a');
const atMost = (x: number, goal: number) => (Number.isFinite(x) ? (x <= goal ? 'yes' : 'no') : 'n/a');

function oneClickRows(r: BenchResults): Row[] {
  const o = r.oneClick;
  if (!o) return [];
  const ms = (v: number) => v.toFixed(0);
  return [
    [`One-click \`ktether enable --description\` → first engineer byte, p50 / p99 ms (${o.runs} runs)`, `${ms(o.firstByte.p50)} / ${ms(o.firstByte.p99)}`, '', '', '< 1000 ("within a second")', o.firstByte.p99 < 1000 ? 'yes' : 'no'],
    [`One-click, ${o.concurrent} appliances clicking at once: first byte p50 / p99 ms`, `${ms(o.concurrentFirstByte.p50)} / ${ms(o.concurrentFirstByte.p99)}`, '', '', '', ''],
  ];
}

function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  const t = r.throughput;
  if (t) {
    out.push(
      [`Throughput via tether relay, MB/s (${t.sizeMiB} MiB, median of ${t.runs})`, f(t.tether.medianMbps), `${BASELINES.relayMbpsChacha} (prototype, chacha20)`, times(t.tether.medianMbps / BASELINES.relayMbpsChacha), '', ''],
      [`Throughput via OpenSSH sshd, MB/s (same shape)`, f(t.openssh.medianMbps), `${BASELINES.sshdMbpsChacha} (chacha20)`, times(t.openssh.medianMbps / BASELINES.sshdMbpsChacha), '', ''],
      ['Throughput ratio tether ÷ OpenSSH', times(t.ratio), times(BASELINES.relayMbpsChacha / BASELINES.sshdMbpsChacha), '', `≥ ${GOALS.throughputRatio}×`, atLeast(t.ratio, GOALS.throughputRatio)],
      ['Relay CPU-s per GiB relayed (tether)', f(t.tether.medianCpuPerGiB, 2), `${BASELINES.relayCpuPerGiBChacha}`, times(t.tether.medianCpuPerGiB / BASELINES.relayCpuPerGiBChacha), `≤ ${GOALS.cpuPerGiB}`, atMost(t.tether.medianCpuPerGiB, GOALS.cpuPerGiB)],
      ['sshd CPU-s per GiB relayed (OpenSSH, all sshd processes)', f(t.openssh.medianCpuPerGiB, 2), `${BASELINES.sshdCpuPerGiBChacha}`, times(t.openssh.medianCpuPerGiB / BASELINES.sshdCpuPerGiBChacha), '', ''],
      [
        'aes128-gcm forced on every leg: tether / OpenSSH, MB/s',
        `${f(t.gcm.tether.medianMbps)} / ${f(t.gcm.openssh.medianMbps)}`,
        `${BASELINES.relayMbpsGcm} / ${BASELINES.sshdMbpsGcm}`,
        `${times(t.gcm.tether.medianMbps / BASELINES.relayMbpsGcm)} / ${times(t.gcm.openssh.medianMbps / BASELINES.sshdMbpsGcm)}`,
        '',
        '',
      ],
      ['aes128-gcm forced on every leg: ratio tether ÷ OpenSSH', times(t.gcm.ratio), times(BASELINES.relayMbpsGcm / BASELINES.sshdMbpsGcm), '', `≥ ${GOALS.throughputRatio}×`, atLeast(t.gcm.ratio, GOALS.throughputRatio)],
      [
        'aes128-gcm forced on every leg: CPU-s per GiB, relay / sshd',
        `${f(t.gcm.tether.medianCpuPerGiB, 2)} / ${f(t.gcm.openssh.medianCpuPerGiB, 2)}`,
        `${BASELINES.relayCpuPerGiBGcm} / ${BASELINES.sshdCpuPerGiBGcm}`,
        '',
        `≤ ${GOALS.cpuPerGiB} (relay)`,
        atMost(t.gcm.tether.medianCpuPerGiB, GOALS.cpuPerGiB),
      ],
      [
        'aes128-gcm forced: the kernel\'s part of those CPU-s per GiB (system time), relay / sshd; agent / `ssh -R`',
        `${f(t.gcm.tether.medianSystemCpuPerGiB, 2)} / ${f(t.gcm.openssh.medianSystemCpuPerGiB, 2)}; ${f(t.gcm.tether.medianApplianceSystemCpuPerGiB, 2)} / ${f(t.gcm.openssh.medianApplianceSystemCpuPerGiB, 2)}`,
        '',
        '',
        '',
        '',
      ],
      [
        'aes128-gcm forced: share of the transfer runnable but waiting for a CPU, relay / sshd; agent / `ssh -R`',
        `${pct(t.gcm.tether.medianWaitShare)} / ${pct(t.gcm.openssh.medianWaitShare)}; ${pct(t.gcm.tether.medianApplianceWaitShare)} / ${pct(t.gcm.openssh.medianApplianceWaitShare)}`,
        '',
        '',
        '',
        '',
      ],
      [
        `aes128-gcm forced: ceiling on this machine if all ${t.vcpus} CPUs were busy (CPUs ÷ whole-machine CPU-s per GiB), MB/s, tether / OpenSSH; the tether's ÷ OpenSSH measured`,
        `${f(ceilingMbps(t.vcpus, t.gcm.tether))} / ${f(ceilingMbps(t.vcpus, t.gcm.openssh))}; ${times(ceilingMbps(t.vcpus, t.gcm.tether) / t.gcm.openssh.medianMbps)}`,
        '',
        '',
        '',
        '',
      ],
      [
        'CPU-s per GiB, appliance side: tether agent / OpenSSH `ssh -R`; default ciphers, aes128-gcm',
        `${f(t.tether.medianApplianceCpuPerGiB, 2)} / ${f(t.openssh.medianApplianceCpuPerGiB, 2)}; ${f(t.gcm.tether.medianApplianceCpuPerGiB, 2)} / ${f(t.gcm.openssh.medianApplianceCpuPerGiB, 2)}`,
        '',
        '',
        '',
        '',
      ],
      [
        'CPU-s per GiB, whole machine (every process of the path): tether / OpenSSH; default ciphers, aes128-gcm',
        `${f(t.tether.medianMachineCpuPerGiB, 2)} / ${f(t.openssh.medianMachineCpuPerGiB, 2)}; ${f(t.gcm.tether.medianMachineCpuPerGiB, 2)} / ${f(t.gcm.openssh.medianMachineCpuPerGiB, 2)}`,
        '',
        '',
        '',
        '',
      ],
    );
  }
  const s = r.idleScale;
  if (s) {
    const idleBaseline = (BASELINES.idleCpuPercentPer1000 * s.connected) / 1000;
    out.push(
      [`Relay memory per idle tunnel, KiB RSS (${s.connected} tunnels)`, f(s.kibPerTunnel), `~${BASELINES.kibPerTunnel} (bare prototype)`, times(s.kibPerTunnel / BASELINES.kibPerTunnel), `≤ ${GOALS.kibPerTunnel}`, atMost(s.kibPerTunnel, GOALS.kibPerTunnel)],
      ['Relay JS heap + external per idle tunnel, KiB', f(s.heapKiBPerTunnel), '', '', '', ''],
      ['Appliance set-ups per second of relay CPU (one core)', f(s.setupPerRelayCoreSecond, 0), `~${BASELINES.setupsPerCoreSecond}`, times(s.setupPerRelayCoreSecond / BASELINES.setupsPerCoreSecond), `≥ ${GOALS.setupsPerCoreSecond}`, atLeast(s.setupPerRelayCoreSecond, GOALS.setupsPerCoreSecond)],
      [`Appliance set-ups per second, wall clock (${s.concurrency} in flight)`, f(s.setupPerSecond, 0), '', '', '', ''],
      ['Appliance set-up latency p50 / p99, ms (under that load)', `${f(s.setupMsP50, 0)} / ${f(s.setupMsP99, 0)}`, '', '', '', ''],
    );
    if (s.idle) {
      out.push([`Relay idle CPU, % of one core (${s.connected} tunnels, ${s.idle.keepaliveMs / 1000} s keepalives)`, f(s.idle.relayCpuPercent, 1), `~${f(idleBaseline, 1)} (9% at 5,000, scaled)`, times(s.idle.relayCpuPercent / idleBaseline), '', '']);
    }
  }
  const e = r.enableLatency;
  if (e) {
    out.push(
      [`\`ktether enable\` → first engineer byte, p50 ms (${e.runs} runs)`, f(e.firstByteP50, 0), '', '', `< ${GOALS.enableToReadyMs}`, e.firstByteP50 < GOALS.enableToReadyMs ? 'yes' : 'no'],
      ['`ktether enable` → first engineer byte, p99 ms', f(e.firstByteP99, 0), '', '', `< ${GOALS.enableToReadyMs}`, e.firstByteP99 < GOALS.enableToReadyMs ? 'yes' : 'no'],
      ['`ktether enable` command returned, p50 / p99 ms', `${f(e.enableExitP50, 0)} / ${f(e.enableExitP99, 0)}`, '', '', '', ''],
    );
  }
  out.push(...pipelineRows(r));
  return out;
}

/** Sweep cost follows the stale sessions: nothing but one range read with none stale, and the
 * same round trips per stale session at 1% and at 10% stale (within 20%). */
export function monitorScalesWithStale(m: PipelineMonitorResult): boolean {
  const [none, few, many] = m.sweeps;
  if (!none || !few || !many || few.stale === 0 || many.stale === 0) return false;
  const per = (x: typeof few) => (x.roundTrips - none.roundTrips) / x.stale;
  return none.roundTrips <= 2 && Math.abs(per(many) / per(few) - 1) < 0.2;
}

function pipelineRows(r: BenchResults): Row[] {
  const out: Row[] = [];
  const w = r.pipelineWebhook;
  if (w) {
    const s = w.steady;
    out.push(
      [
        `Webhook accepted → key mail at the SMTP server, p50 / p99 ms (${f(s.offeredRate, 0)} tickets/s, ${s.offered} tickets)`,
        `${f(s.acceptedToMailP50, 0)} / ${f(s.acceptedToMailP99, 0)}${s.mailRate < 0.9 * s.offeredRate ? ` (did not keep up: ${f(s.mailRate, 0)} key mails/s; backlog)` : ''}`, '', '', `p99 < ${GOALS.webhookToMailP99Ms} at 100/s`, atMost(s.acceptedToMailP99, GOALS.webhookToMailP99Ms - 1e-9)],
      [
        `Sustained tickets/s end to end (flood of ${w.flood.offered}: key mails/s, 10%–90% of arrivals)`,
        f(w.flood.mailRateMid, 0),
        `~${BASELINES.bullmqJobsPerSecond} raw BullMQ jobs/s (a ticket is ~${f(jobsPerTicket(w), 0)} jobs)`,
        '',
        `≥ ${GOALS.ticketsPerSecond}`,
        atLeast(w.flood.mailRateMid, GOALS.ticketsPerSecond),
      ],
      [
        'Redis commands per ticket (INFO commandstats, script-internal commands included): steady; flood',
        `${f(w.redis.steady.commandsPerTicket, 0)}; ${f(w.redis.flood.commandsPerTicket, 0)}`,
        '',
        '',
        '',
        '',
      ],
      [
        'Informational, CPU per ticket, server (API + workers) / Redis, ms: at the steady rate; in the flood',
        `${f((s.serverCpuSeconds / s.accepted) * 1000, 1)} / ${f((s.redisCpuSeconds / s.accepted) * 1000, 1)}; ${f((w.flood.serverCpuSeconds / w.flood.accepted) * 1000, 1)} / ${f((w.flood.redisCpuSeconds / w.flood.accepted) * 1000, 1)}`,
        '',
        '',
        '',
        '',
      ],
    );
  }
  const e = r.pipelineExpiry;
  if (e) {
    out.push(
      [`Expiry lateness, ${e.spread.sessions} deadlines over ${f(e.spread.windowMs / 1000, 0)} s: p50 / p99 ms`, `${f(e.spread.p50, 0)} / ${f(e.spread.p99, 0)}`, `${BASELINES.delayedP50Ms} / ${BASELINES.delayedP99Ms} (raw BullMQ delayed jobs, hz 100)`, times(e.spread.p99 / BASELINES.delayedP99Ms), `p99 < ${GOALS.expirySpreadP99Ms}`, atMost(e.spread.p99, GOALS.expirySpreadP99Ms - 1e-9)],
      [`Expiry lateness, ${e.burst.sessions} due at one instant: p50 / p99 ms`, `${f(e.burst.p50, 0)} / ${f(e.burst.p99, 0)}`, `p99 ~${BASELINES.burstP99Ms} (raw BullMQ)`, times(e.burst.p99 / BASELINES.burstP99Ms), `p99 < ${GOALS.expiryBurstP99Ms}`, atMost(e.burst.p99, GOALS.expiryBurstP99Ms - 1e-9)],
    );
  }
  const t = r.pipelineTeardown;
  if (t) {
    out.push([`Teardown: revoke (API) → engineer channel closed, p50 / p99 ms (${t.measured} revokes)`, `${f(t.p50, 0)} / ${f(t.p99, 0)}`, '', '', `p99 < ${GOALS.teardownP99Ms}`, t.timeouts ? 'no' : atMost(t.p99, GOALS.teardownP99Ms - 1e-9)]);
  }
  const m = r.pipelineMonitor;
  if (m) {
    const scales = monitorScalesWithStale(m);
    m.sweeps.forEach((x, i) =>
      out.push([
        `Monitor sweep over ${m.sessions} sessions, ${x.stale} stale: ms / round trips / Redis CPU ms`,
        `${f(x.ms, 1)} / ${f(x.roundTrips, 0)} / ${f(x.redisCpuMs, 1)}`,
        '',
        '',
        i === 0 ? 'cost ∝ stale sessions' : '',
        i === 0 ? (scales ? 'yes' : 'no') : '',
      ]),
    );
  }
  return out;
}

/** BullMQ jobs per ticket over the run: every job added to every queue, per accepted ticket. */
function jobsPerTicket(w: PipelineWebhookResult): number {
  const tickets = w.steady.accepted + w.flood.accepted + w.warmupTickets;
  return tickets ? w.jobsTotal / tickets : Number.NaN;
}

export function formatTable(r: BenchResults): string {
  const header: Row = ['measure', 'result', 'baseline (relay-notes.md)', 'vs baseline', 'goal', 'goal met'];
  const body = [...rows(r), ...oneClickRows(r), ...consoleRows(r.console), ...serviceRows(r.applianceService), ...fleetRows(r.fleet), ...fleetScaleRows(r.fleetScale), ...relayCoresRows(r.relayCores)];
  if (body.length === 0) return '(no results)\n';
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n') + '\n';
}

export function formatContext(r: BenchResults, ctx: { command: string; sizes: string; machine: string; loadBefore: string; loadAfter: string }): string {
  const lines = [`command: ${ctx.command} (${ctx.sizes})`, `machine: ${ctx.machine}; load average before ${ctx.loadBefore}, after ${ctx.loadAfter}`];
  const t = r.throughput;
  if (t) {
    const c = (x?: { cs: string; sc: string }) => (x ? (x.cs === x.sc ? x.cs : `${x.cs} / ${x.sc}`) : 'unknown');
    lines.push(
      `throughput ciphers: tether: engineer leg ${c(t.tether.engineerCipher)}, appliance leg ${c(t.tether.applianceCipher)}; ` +
        `OpenSSH: engineer leg ${c(t.openssh.engineerCipher)}, appliance leg ${c(t.openssh.applianceCipher)} (${t.openssh.version})`,
      `aes128-gcm variant ciphers: tether engineer leg ${c(t.gcm.tether.engineerCipher)}; OpenSSH engineer leg ${c(t.gcm.openssh.engineerCipher)}, appliance leg ${c(t.gcm.openssh.applianceCipher)}`,
      `throughput runs MB/s: tether ${t.tether.mbps.map((x) => f(x)).join(', ')}; OpenSSH ${t.openssh.mbps.map((x) => f(x)).join(', ')}; ` +
        `aes128-gcm: tether ${t.gcm.tether.mbps.map((x) => f(x)).join(', ')}, OpenSSH ${t.gcm.openssh.mbps.map((x) => f(x)).join(', ')}`,
      `CPU-s per GiB by process (medians; the rest = the engineer's ssh, the kernel's work no process is charged for, everything else on the machine): ` +
        ([
          ['tether', t.tether],
          ['OpenSSH', t.openssh],
          ['tether aes128-gcm', t.gcm.tether],
          ['OpenSSH aes128-gcm', t.gcm.openssh],
        ] as [string, PathResult][])
          .map(([name, x]) => {
            const rest = x.medianMachineCpuPerGiB - x.medianCpuPerGiB - x.medianApplianceCpuPerGiB - x.medianBenchCpuPerGiB;
            return `${name}: middle box ${f(x.medianCpuPerGiB, 2)}, appliance ${f(x.medianApplianceCpuPerGiB, 2)}, bench feed + sink ${f(x.medianBenchCpuPerGiB, 2)}, rest ${f(rest, 2)} (machine ${f(x.medianMachineCpuPerGiB, 2)})`;
          })
          .join('; '),
      `relay read / write system calls / minor page faults per MiB relayed, each run: ${[...t.tether.relayIoPerMiB, ...t.gcm.tether.relayIoPerMiB].map((x) => `${f(x.reads)} / ${f(x.writes)} / ${f(x.faults)}`).join('; ')}`,
      'throughput shape: engineer `ssh -W <target>` (the jump hop of `ssh -J`) → middle box → appliance → TCP sink; ' +
        'appliance = ssh2 client with the agent\'s dial settings (tether) / `ssh -N -R` (OpenSSH); MB/s = 10^6 B/s from first to last byte at the sink',
    );
  }
  const s = r.idleScale;
  if (s) {
    lines.push(
      `idle scale: ${s.connected}/${s.tunnels} tunnels up (${s.failed} failed) in ${f(s.setupSeconds)} s from ${s.clientProcesses} client processes; ` +
        `relay RSS ${f(s.relay.rssBeforeKiB / 1024)} → ${f(s.relay.rssAfterKiB / 1024)} MiB, heap ${f(s.relay.heapBeforeKiB / 1024)} → ${f(s.relay.heapAfterKiB / 1024)} MiB, ` +
        `${s.relay.fds} fds; relay CPU for the set-ups ${f(s.relayCpuSeconds, 2)} s (${f((s.relayCpuSeconds / Math.max(1, s.connected)) * 1000, 2)} ms each), Redis ${f(s.redisCpuSeconds, 2)} s`,
    );
    if (s.errors.length) lines.push(`idle scale errors: ${s.errors.join(' | ')}`);
  }
  const e = r.enableLatency;
  if (e) {
    lines.push(`enable latency runs ms (first byte): ${e.firstByteMs.map((x) => f(x, 0)).join(', ')}; engineer probes every ${e.probeEveryMs} ms`);
  }
  lines.push(...pipelineContext(r));
  lines.push(...consoleContext(r.console));
  lines.push(...serviceContext(r.applianceService));
  lines.push(...fleetContext(r.fleet));
  lines.push(...fleetScaleContext(r.fleetScale));
  lines.push(...relayCoresContext(r.relayCores));
  for (const err of r.errors) lines.push(`FAILED ${err.bench}: ${err.message.split('\n')[0]}`);
  return lines.map((l) => `- ${l}`).join('\n') + '\n';
}

function pipelineContext(r: BenchResults): string[] {
  const lines: string[] = [];
  const w = r.pipelineWebhook;
  if (w) {
    const ph = (name: string, x: PipelineWebhookResult['steady']) =>
      `${name}: ${x.accepted}/${x.offered} accepted (202), ${x.mailed} key mails; 202 p50/p99 ${f(x.httpP50, 1)}/${f(x.httpP99, 1)} ms; ` +
      `request → mail p50/p99 ${f(x.sentToMailP50, 0)}/${f(x.sentToMailP99, 0)} ms; accepted → mail max ${f(x.acceptedToMailMax, 0)} ms; ` +
      `API took ${f(x.acceptRate, 0)}/s; key mails ${f(x.mailRate, 0)}/s overall; CPU server ${f(x.serverCpuSeconds, 1)} s, Redis ${f(x.redisCpuSeconds, 1)} s, bench process ${f(x.benchCpuSeconds, 1)} s` +
      (x.errors.length ? `; errors: ${x.errors.join(' | ')}` : '');
    lines.push(
      `pipeline webhook: serve.js ${w.processes.map((p) => `--roles ${p}`).join(' + ')}; SMTP capture and comment sink in the bench process; ` +
        `${w.mailsTotal} mails and ${w.commentsTotal} ticket comments in all; ${f(w.jobsTotal, 0)} BullMQ jobs (${Object.entries(w.jobsByQueue).map(([q, n]) => `${q} ${n}`).join(', ')}); failed jobs: ${JSON.stringify(w.failedJobs)}; ` +
        `load average at the steady phase ${w.load.steady}, at the flood ${w.load.flood}`,
      `pipeline webhook ${ph('steady', w.steady)}`,
      `pipeline webhook ${ph('flood', w.flood)}`,
    );
    const st = Object.entries(w.steadyStages)
      .map(([q, x]) => `${q} ${f(x.waitP50, 0)}·${f(x.waitP99, 0)} / ${f(x.runP50, 0)}·${f(x.runP99, 0)}`)
      .join('; ');
    lines.push(`pipeline webhook steady, per queue, BullMQ wait p50·p99 / run p50·p99 ms: ${st}`);
    lines.push(
      `pipeline webhook flood: ${f(w.floodJobsPerTicket, 1)} BullMQ jobs per ticket; Redis per ticket: ${f(w.redis.flood.commandsPerTicket, 0)} commands, exec ${f(w.redis.flood.execMsPerTicket, 2)} ms; ` +
        `most frequent: ${Object.entries(w.redis.flood.topPerTicket).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
    if (w.serverWarnings.length) lines.push(`pipeline webhook server warnings: ${w.serverWarnings.join(' | ')}`);
  }
  const e = r.pipelineExpiry;
  if (e) {
    for (const [name, x] of [['spread', e.spread], ['burst', e.burst]] as const) {
      lines.push(
        `pipeline expiry ${name}: ${x.closed}/${x.sessions} closed as expired (${x.wrong} not, ${x.early} early); max ${f(x.max, 0)} ms; expire job turned active p50/p99 ${f(x.pickupP50, 0)}/${f(x.pickupP99, 0)} ms after the deadline; ` +
          `expire jobs planned ${f(x.planningMs, 0)} ms after creation (${x.unplannedAtDeadline} late); CPU workers ${f(x.serverCpuSeconds, 1)} s, Redis ${f(x.redisCpuSeconds, 1)} s; load ${x.load}`,
      );
    }
  }
  const t = r.pipelineTeardown;
  if (t) {
    lines.push(
      `pipeline teardown: ${t.measured}/${t.teardowns} closes seen (${t.timeouts} timeouts after 10 s); max ${f(t.max, 0)} ms; revoke API answered p50/p99 ${f(t.apiP50, 1)}/${f(t.apiP99, 1)} ms; ` +
        `CLOSED transition → engineer close p50/p99 ${f(t.transitionToCloseP50, 1)}/${f(t.transitionToCloseP99, 1)} ms (ms clocks); relay CPU ${f(t.relayCpuSeconds, 2)} s; load ${t.load}`,
    );
  }
  const m = r.pipelineMonitor;
  if (m) {
    lines.push(
      `pipeline monitor: ${m.sessions} CONNECTED sessions seeded in ${f(m.seedSeconds)} s; grace ${m.graceMs / 1000} s; medians of 3 sweeps: ` +
        m.sweeps.map((x) => `${x.stale} stale → ${x.lost} LOST, ${x.redisCommands} Redis commands incl. in scripts (${Object.entries(x.commands).map(([k, v]) => `${k} ${v}`).join(', ')}), Redis exec ${f(x.redisExecMs, 1)} ms, sweeper CPU ${f(x.sweeperCpuMs, 1)} ms`).join('; '),
    );
  }
  return lines;
}
