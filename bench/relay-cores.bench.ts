// A relay per core (issue 11): aggregate engineer throughput with the relay as one process against
// TETHER_RELAY_PROCESSES=2, both started by the production entry (`serve.js --roles relay`) and up
// side by side, rounds alternating. A round: K stock OpenSSH `ssh -W SERIAL:22` streams of S MiB,
// started together (in a shuffled order, so where each lands is left to the primary's turn-taking),
// each reading a file of random bytes, each to its own appliance (ssh2, the agent's dial) and a
// sink behind it. Reports aggregate MB/s, CPU-s/GiB per relay process, and how many channels crossed the peer link.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { openRedis } from '../shared/redis.js';
import { startFleet, type Fleet } from './lib/appliance-fleet.js';
import { ByteSink, type Transfer } from './lib/byte-sink.js';
import { cpuSeconds, ioSyscalls, machineBusySeconds } from './lib/proc.js';
import { startRedisServer, type RedisServerHandle } from './lib/redis-server.js';
import { startServeRelay, type ServeRelay } from './lib/serve-relay.js';
import { startSsh, type SshChild } from './lib/ssh-client.js';
import { median } from './lib/stats.js';
import { RELAY_ALIAS } from './lib/tether-fixture.js';

export interface RelayCoresOptions {
  /** Concurrent engineer streams per round, one case each (e.g. [2, 4]). */
  streams: number[];
  /** MiB each stream sends. */
  streamMiB: number;
  /** Rounds per case and relay shape; medians reported. */
  runs: number;
  /** Processes holding the simulated appliances of each relay shape. */
  applianceProcesses: number;
  log: (line: string) => void;
}

/** One round: K streams started together through one relay shape. */
export interface CoresRound {
  /** Σ bytes ÷ (last byte at the last sink − first byte at any sink), 10^6 B/s. */
  mbps: number;
  /** Σ bytes ÷ (ssh spawned → last byte), handshakes included. */
  mbpsWithLogin: number;
  /** Each stream alone, first to last byte. */
  streamMbps: number[];
  /** CPU-s per GiB of each relay process (fleet registration order), and of the cluster primary (0 with one process). */
  relayCpuPerGiB: number[];
  primaryCpuPerGiB: number;
  /** Relay processes + primary. */
  relayTotalCpuPerGiB: number;
  /** The load side on the same cores: the engineers' ssh (reading their file), the appliance processes, this process (the sinks). */
  engineerSshCpuPerGiB: number;
  applianceCpuPerGiB: number;
  benchCpuPerGiB: number;
  /** Machine CPU busy during the round ÷ its wall time: cores in use (2 = saturated here). */
  busyCores: number;
  /** Read and write system calls of all relay processes per MiB relayed (/proc/PID/io): how well writes coalesce. */
  relayReadsPerMiB: number;
  relayWritesPerMiB: number;
  /** `engineer.channel.opened` audit entries of the round, and those with `via` (crossed the peer link). */
  channels: number;
  crossed: number;
  load1: number;
}

export interface CoresShape {
  processes: number;
  rounds: CoresRound[];
  medianMbps: number;
  medianRelayTotalCpuPerGiB: number;
  medianBusyCores: number;
}

export interface CoresCase {
  streams: number;
  one: CoresShape;
  two: CoresShape;
  /** 2-process ÷ 1-process, medians of aggregate MB/s. */
  ratio: number;
}

export interface RelayCoresResult {
  streamMiB: number;
  runs: number;
  applianceProcesses: number;
  cases: CoresCase[];
  /** Tunnels each relay process of the 2-process shape holds (appliances connected one after the other). */
  tunnelsPerProcess: { one: number[]; two: number[] };
  cipher?: { cs: string; sc: string };
}

const WARMUP_MIB = 16;
const SERIAL = (processes: number, i: number) => `BENCHCORES${processes}-${String(i + 1).padStart(2, '0')}`;

/** A file of `bytes` incompressible bytes (1 MiB of random data repeated, as the other benchmarks
 * feed): the engineers' ssh read it themselves, so no feeder in this process competes for the cores. */
function dataFile(dir: string, bytes: number): string {
  const file = join(dir, `data-${bytes}`);
  const block = randomBytes(2 ** 20);
  writeFileSync(file, '');
  for (let left = bytes; left > 0; left -= block.length) writeFileSync(file, left >= block.length ? block : block.subarray(0, left), { flag: 'a' });
  return file;
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One relay shape with its appliances and sinks, up for the whole benchmark. */
interface Shape {
  relay: ServeRelay;
  fleet: Fleet;
  sinks: ByteSink[];
  serials: string[];
}

async function startShape(processes: number, appliances: number, applianceProcesses: number, redisServer: RedisServerHandle, redis: Redis): Promise<Shape & { cipher?: { cs: string; sc: string } }> {
  const relay = await startServeRelay({ processes, redisUrl: redisServer.url, redis });
  const sinks = Array.from({ length: appliances }, () => new ByteSink());
  let fleet: Fleet | undefined;
  try {
    for (const s of sinks) await s.start();
    const serials = sinks.map((_, i) => SERIAL(processes, i));
    const issued = [];
    for (const serial of serials) issued.push(await relay.issue(serial));
    fleet = startFleet(applianceProcesses, { host: '127.0.0.1', port: relay.port, fp: relay.hostKey.fingerprint });
    // One after the other: the primary hands connections to the relay processes in turn, so the
    // tunnels alternate between them.
    const up = await fleet.connect(
      issued.map((s, i) => ({ serial: s.serial, privateKey: s.privateKey, port: 22, target: sinks[i]!.port })),
      1,
    );
    if (up.ok !== appliances) throw new Error(`simulated appliances could not connect: ${up.errors.join('; ')}\n${relay.output()}`);
    return { relay, fleet, sinks, serials, cipher: up.cipher };
  } catch (err) {
    await fleet?.close();
    for (const s of sinks) await s.close();
    await relay.close();
    throw err;
  }
}

async function closeShape(s: Shape): Promise<void> {
  await s.fleet.close().catch(() => undefined);
  for (const sink of s.sinks) await sink.close();
  await s.relay.close();
}

/** Tunnels per relay process, in fleet registration order. */
async function tunnelsPerProcess(s: Shape): Promise<number[]> {
  const relays = [...(await s.relay.relays()).keys()];
  const counts = new Map(relays.map((id) => [id, 0]));
  for (const serial of s.serials) {
    const live = await s.relay.sessions.findLiveBySerial(serial);
    const holder = live?.relayId;
    if (holder && counts.has(holder)) counts.set(holder, (counts.get(holder) ?? 0) + 1);
  }
  return relays.map((id) => counts.get(id) ?? 0);
}

async function round(s: Shape, streams: number, bytes: number, file: string): Promise<CoresRound> {
  const relays = await s.relay.relays();
  const relayPids = [...relays.values()];
  const primary = relayPids.includes(s.relay.primaryPid) ? 0 : s.relay.primaryPid;
  const cpu = () => ({
    relays: relayPids.map((pid) => cpuSeconds(pid)),
    io: relayPids.map((pid) => ioSyscalls(pid)).reduce((a, b) => ({ reads: a.reads + b.reads, writes: a.writes + b.writes }), { reads: 0, writes: 0 }),
    primary: primary ? cpuSeconds(primary) : 0,
    appliances: s.fleet.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    bench: process.cpuUsage(),
    busy: machineBusySeconds(),
  });
  const marker = await s.relay.audit.lastId();
  const got = s.sinks.slice(0, streams).map((sink) => sink.expect(bytes));
  const c0 = cpu();
  const t0 = performance.now();
  const sshs: SshChild[] = [];
  for (const i of shuffled([...Array(streams).keys()])) {
    const ssh = startSsh(s.relay.engineer.sshConfig, ['-W', `${s.serials[i]}:22`, RELAY_ALIAS], { stdinFile: file });
    void ssh.exited.then((code) => s.sinks[i]!.fail(new Error(`engineer ssh exited (${code}) early:\n${ssh.stderr().slice(-1_500)}\nserve output:\n${s.relay.output().slice(-3_000)}`)));
    sshs.push(ssh);
  }
  const timer = setTimeout(() => s.sinks.forEach((sink) => sink.fail(new Error('round took longer than 10 minutes'))), 600_000);
  try {
    const done = await Promise.all(got);
    const c1 = cpu();
    const t1 = performance.now();
    // The engineers' ssh are still up: each sink holds its socket until released.
    const sshCpu = sshs.reduce((sum, ssh) => sum + cpuSeconds(ssh.child.pid ?? 0), 0);
    for (const d of done) d.release();
    const transfers: Transfer[] = done.map((d) => d.transfer);
    const total = transfers.reduce((sum, t) => sum + t.bytes, 0);
    const span = (Math.max(...transfers.map((t) => t.lastAt)) - Math.min(...transfers.map((t) => t.firstAt))) / 1000;
    const gib = (streams * bytes) / 2 ** 30;
    const relayCpu = c1.relays.map((x, i) => x - (c0.relays[i] ?? 0));
    const primaryCpu = c1.primary - c0.primary;
    const benchCpu = (c1.bench.user - c0.bench.user + c1.bench.system - c0.bench.system) / 1e6;
    const opened = (await s.relay.audit.list(marker ? { after: marker } : {})).filter((e) => e.type === 'engineer.channel.opened');
    return {
      mbps: total / span / 1e6,
      mbpsWithLogin: total / ((Math.max(...transfers.map((t) => t.lastAt)) - t0) / 1000) / 1e6,
      streamMbps: transfers.map((t) => (t.bytes - t.firstChunk) / ((t.lastAt - t.firstAt) / 1000) / 1e6),
      relayCpuPerGiB: relayCpu.map((x) => x / gib),
      primaryCpuPerGiB: primaryCpu / gib,
      relayTotalCpuPerGiB: (relayCpu.reduce((a, b) => a + b, 0) + primaryCpu) / gib,
      engineerSshCpuPerGiB: sshCpu / gib,
      applianceCpuPerGiB: (c1.appliances - c0.appliances) / gib,
      benchCpuPerGiB: benchCpu / gib,
      busyCores: (c1.busy - c0.busy) / ((t1 - t0) / 1000),
      relayReadsPerMiB: (c1.io.reads - c0.io.reads) / (gib * 1024),
      relayWritesPerMiB: (c1.io.writes - c0.io.writes) / (gib * 1024),
      channels: opened.length,
      crossed: opened.filter((e) => e.fields.via).length,
      load1: loadavg()[0] ?? 0,
    };
  } finally {
    clearTimeout(timer);
    await Promise.all(
      sshs.map(async (ssh) => {
        const killer = setTimeout(() => ssh.child.kill('SIGKILL'), 10_000);
        await ssh.exited;
        clearTimeout(killer);
      }),
    );
  }
}

function shapeFigures(processes: number, rounds: CoresRound[]): CoresShape {
  return {
    processes,
    rounds,
    medianMbps: median(rounds.map((r) => r.mbps)),
    medianRelayTotalCpuPerGiB: median(rounds.map((r) => r.relayTotalCpuPerGiB)),
    medianBusyCores: median(rounds.map((r) => r.busyCores)),
  };
}

const f = (x: number, d = 1) => x.toFixed(d);

function describeRound(r: CoresRound): string {
  return (
    `${f(r.mbps)} MB/s (streams ${r.streamMbps.map((x) => f(x, 0)).join(', ')}), relay CPU-s/GiB ${r.relayCpuPerGiB.map((x) => f(x, 2)).join(' + ')}` +
    `${r.primaryCpuPerGiB ? ` + primary ${f(r.primaryCpuPerGiB, 2)}` : ''} = ${f(r.relayTotalCpuPerGiB, 2)}, ${f(r.relayReadsPerMiB)} reads + ${f(r.relayWritesPerMiB)} writes/MiB, ${r.crossed}/${r.channels} crossed, ${f(r.busyCores, 2)} cores busy, load ${f(r.load1, 2)}`
  );
}

export async function benchRelayCores(opts: RelayCoresOptions): Promise<RelayCoresResult> {
  const maxStreams = Math.max(...opts.streams);
  const bytes = opts.streamMiB * 2 ** 20;
  const redisServer = await startRedisServer();
  const redis = openRedis(redisServer.url, { name: 'bench-cores' });
  const shapes: Shape[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-cores-data-'));
  try {
    const warmupFile = dataFile(dir, WARMUP_MIB * 2 ** 20);
    const file = dataFile(dir, bytes);
    const one = await startShape(1, maxStreams, opts.applianceProcesses, redisServer, redis);
    shapes.push(one);
    const two = await startShape(2, maxStreams, opts.applianceProcesses, redisServer, redis);
    shapes.push(two);
    const spread = { one: await tunnelsPerProcess(one), two: await tunnelsPerProcess(two) };
    opts.log(`relay-cores: ${maxStreams} appliances per shape; tunnels per relay process: 1 process ${spread.one.join('/')}, 2 processes ${spread.two.join('/')}`);
    // Unrecorded warm-up of each shape (JIT, first logins, the peer links between relay processes).
    for (const s of shapes) await round(s, maxStreams, WARMUP_MIB * 2 ** 20, warmupFile);
    const rounds = new Map<string, CoresRound[]>();
    for (let run = 1; run <= opts.runs; run++) {
      for (const [ci, k] of opts.streams.entries()) {
        // Which shape goes first alternates, so that a noisy moment does not favour one of them.
        const order = (run + ci) % 2 ? [one, two] : [two, one];
        for (const s of order) {
          const r = await round(s, k, bytes, file);
          const key = `${k}/${s.relay.processes}`;
          rounds.set(key, [...(rounds.get(key) ?? []), r]);
          opts.log(`relay-cores run ${run}/${opts.runs}, ${k} streams × ${opts.streamMiB} MiB, ${s.relay.processes} relay process${s.relay.processes > 1 ? 'es' : ''}: ${describeRound(r)}`);
        }
      }
    }
    const cases = opts.streams.map((k): CoresCase => {
      const a = shapeFigures(1, rounds.get(`${k}/1`) ?? []);
      const b = shapeFigures(2, rounds.get(`${k}/2`) ?? []);
      return { streams: k, one: a, two: b, ratio: b.medianMbps / a.medianMbps };
    });
    return { streamMiB: opts.streamMiB, runs: opts.runs, applianceProcesses: opts.applianceProcesses, cases, tunnelsPerProcess: spread, cipher: one.cipher };
  } finally {
    for (const s of shapes.reverse()) await closeShape(s).catch(() => undefined);
    redis.disconnect();
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
