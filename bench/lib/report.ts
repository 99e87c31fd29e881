// The printed result: one Markdown table of figures beside the baselines measured on this machine
// class (../shared/reference/relay-notes.md) and the goals of issue 2, then the context lines
// (ciphers, versions, sizes, load) a reader needs to judge the figures. Goals are not assertions.
import type { EnableLatencyResult } from '../enable-latency.bench.js';
import type { IdleScaleResult } from '../idle-scale.bench.js';
import type { ThroughputResult } from '../throughput.bench.js';

export interface BenchResults {
  throughput?: ThroughputResult;
  idleScale?: IdleScaleResult;
  enableLatency?: EnableLatencyResult;
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
} as const;

export const GOALS = {
  throughputRatio: 1.3,
  cpuPerGiB: 2.5,
  kibPerTunnel: 32,
  setupsPerCoreSecond: 250,
  enableToReadyMs: 300,
} as const;

type Row = [measure: string, result: string, baseline: string, vsBaseline: string, goal: string, met: string];

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
const atLeast = (x: number, goal: number) => (Number.isFinite(x) ? (x >= goal ? 'yes' : 'no') : 'n/a');
const atMost = (x: number, goal: number) => (Number.isFinite(x) ? (x <= goal ? 'yes' : 'no') : 'n/a');

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
        'Informational, aes128-gcm forced on every leg: tether / OpenSSH, MB/s',
        `${f(t.gcm.tether.medianMbps)} / ${f(t.gcm.openssh.medianMbps)}`,
        `${BASELINES.relayMbpsGcm} / ${BASELINES.sshdMbpsGcm}`,
        `${times(t.gcm.tether.medianMbps / BASELINES.relayMbpsGcm)} / ${times(t.gcm.openssh.medianMbps / BASELINES.sshdMbpsGcm)}`,
        '',
        '',
      ],
      ['Informational, aes128-gcm everywhere: ratio tether ÷ OpenSSH', times(t.gcm.ratio), times(BASELINES.relayMbpsGcm / BASELINES.sshdMbpsGcm), '', '', ''],
      [
        'Informational, aes128-gcm everywhere: CPU-s per GiB, relay / sshd',
        `${f(t.gcm.tether.medianCpuPerGiB, 2)} / ${f(t.gcm.openssh.medianCpuPerGiB, 2)}`,
        `${BASELINES.relayCpuPerGiBGcm} / ${BASELINES.sshdCpuPerGiBGcm}`,
        '',
        `≤ ${GOALS.cpuPerGiB} (relay)`,
        atMost(t.gcm.tether.medianCpuPerGiB, GOALS.cpuPerGiB),
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
  return out;
}

export function formatTable(r: BenchResults): string {
  const header: Row = ['measure', 'result', 'baseline (relay-notes.md)', 'vs baseline', 'goal', 'goal met'];
  const body = rows(r);
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
  for (const err of r.errors) lines.push(`FAILED ${err.bench}: ${err.message.split('\n')[0]}`);
  return lines.map((l) => `- ${l}`).join('\n') + '\n';
}
