// Tunnel throughput: N MiB from a stock OpenSSH engineer (`ssh -W`) through a middle box to the
// appliance's service, for our relay and for OpenSSH's own sshd in the same shape, runs
// alternating. Reports MB/s (first to last byte at the service) and the middle box's CPU-s/GiB,
// with where the CPU goes (by process, the kernel's part) and how long the middle box and the
// appliance waited for a CPU: every process of both paths shares this machine's cores.
import { availableParallelism } from 'node:os';
import { ByteSink } from './lib/byte-sink.js';
import { startFleet, type Fleet } from './lib/appliance-fleet.js';
import { ensureSshd, sshdVersion, startPrivateSshd, SSHD_ALIAS, type PrivateSshd } from './lib/openssh.js';
import { cpuTimes, ioSyscalls, machineBusySeconds, minorFaults, treeCpuTimes, treeRunqueueWaitSeconds, type CpuTimes } from './lib/proc.js';
import { freePort } from './lib/redis-server.js';
import { feed, negotiatedCipher, startSsh, type SshChild } from './lib/ssh-client.js';
import { percent as pct } from './lib/report-row.js';
import { median } from './lib/stats.js';
import { RELAY_ALIAS, startBenchTether, type BenchTether } from './lib/tether-fixture.js';

export interface ThroughputOptions {
  sizeMiB: number;
  runs: number;
  log: (line: string) => void;
}

export interface Ciphers {
  cs: string;
  sc: string;
}

/** Read and write system calls and minor page faults of the relay process. */
export interface RelayIo {
  reads: number;
  writes: number;
  faults: number;
}

export interface PathResult {
  /** MB/s (10^6 bytes per second) per run, and their median. */
  mbps: number[];
  cpuPerGiB: number[];
  medianMbps: number;
  medianCpuPerGiB: number;
  /** CPU-s per GiB of the appliance side (our agent's process / OpenSSH's `ssh -R`), and of the
   * whole machine (every process: engineer's ssh, middle box, appliance, the bench's feed and sink). */
  applianceCpuPerGiB: number[];
  machineCpuPerGiB: number[];
  /** CPU-s per GiB of this process: the feeder writing into the engineer's ssh and the sink. */
  benchCpuPerGiB: number[];
  medianBenchCpuPerGiB: number;
  medianApplianceCpuPerGiB: number;
  medianMachineCpuPerGiB: number;
  /** The kernel's part (system time) of the middle box's and of the appliance side's CPU-s per GiB. */
  systemCpuPerGiB: number[];
  applianceSystemCpuPerGiB: number[];
  medianSystemCpuPerGiB: number;
  medianApplianceSystemCpuPerGiB: number;
  /** Share of the transfer's wall time (engineer's ssh started → last byte) the middle box (every
   * process of it) / the appliance side was runnable but waiting for a CPU (/proc/PID/schedstat). */
  waitShare: number[];
  applianceWaitShare: number[];
  medianWaitShare: number;
  medianApplianceWaitShare: number;
  /** The middle box's read and write system calls and minor page faults per MiB relayed (our relay only). */
  relayIoPerMiB: RelayIo[];
  engineerCipher?: Ciphers;
  applianceCipher?: Ciphers;
}

export interface ThroughputResult {
  sizeMiB: number;
  runs: number;
  /** CPUs every process of both paths shared (engineer's ssh, middle box, appliance, feed and sink). */
  vcpus: number;
  tether: PathResult;
  openssh: PathResult & { version: string };
  /** tether MB/s ÷ OpenSSH MB/s (medians). */
  ratio: number;
  /** Informational: the same two paths with aes128-gcm forced on every leg (`ssh -c`), i.e. what
   * each side reaches when GCM is negotiated instead of OpenSSH's default chacha20. */
  gcm: { tether: PathResult; openssh: PathResult; ratio: number };
}

export const GCM = 'aes128-gcm@openssh.com';

const SERIAL = 'BENCHTP0001';
const SERVICE_PORT = 22;
const WARMUP_BYTES = 16 * 2 ** 20;

/** One middle box set up for repeated transfers. */
interface Path {
  sink: ByteSink;
  /** The engineer's ssh arguments after `-v -F <config>`. */
  engineer: { config: string; args: string[] };
  cpu(): CpuTimes;
  applianceCpu(): CpuTimes;
  /** Seconds spent runnable but waiting for a CPU so far: the middle box's processes, the appliance side's. */
  waits(): { middle: number; appliance: number };
  /** The relay's system calls and page faults so far (our relay only; not counted for sshd). */
  relayIo?: () => RelayIo;
  result: PathResult;
  close(): Promise<void>;
}

/** One transfer; its figures are kept unless it is a warm-up. */
async function transferOnce(path: Path, bytes: number, record = true): Promise<void> {
  const got = path.sink.expect(bytes);
  const cpu0 = path.cpu();
  const appliance0 = path.applianceCpu();
  const machine0 = machineBusySeconds();
  const io0 = path.relayIo?.();
  const waits0 = path.waits();
  const own0 = process.cpuUsage();
  const wall0 = performance.now();
  const ssh: SshChild = startSsh(path.engineer.config, path.engineer.args, { stdin: true });
  void ssh.exited.then((code) => path.sink.fail(new Error(`engineer ssh exited (${code}) early:\n${ssh.stderr().slice(-1_500)}`)));
  void feed(ssh.child.stdin!, bytes);
  const timer = setTimeout(() => path.sink.fail(new Error('transfer took longer than 10 minutes')), 600_000);
  try {
    const { transfer, release } = await got;
    const wall = (performance.now() - wall0) / 1000;
    const cpu = minus(path.cpu(), cpu0);
    const applianceCpu = minus(path.applianceCpu(), appliance0);
    const machineCpu = machineBusySeconds() - machine0;
    const io = path.relayIo?.();
    const waits = path.waits();
    const own = process.cpuUsage(own0);
    release();
    if (!record) return;
    const gib = bytes / 2 ** 30;
    path.result.applianceCpuPerGiB.push(applianceCpu.total / gib);
    path.result.applianceSystemCpuPerGiB.push(applianceCpu.system / gib);
    path.result.systemCpuPerGiB.push(cpu.system / gib);
    path.result.waitShare.push((waits.middle - waits0.middle) / wall);
    path.result.applianceWaitShare.push((waits.appliance - waits0.appliance) / wall);
    path.result.machineCpuPerGiB.push(machineCpu / gib);
    path.result.benchCpuPerGiB.push((own.user + own.system) / 1e6 / gib);
    const mib = bytes / 2 ** 20;
    if (io && io0) path.result.relayIoPerMiB.push({ reads: (io.reads - io0.reads) / mib, writes: (io.writes - io0.writes) / mib, faults: (io.faults - io0.faults) / mib });
    const secs = (transfer.lastAt - transfer.firstAt) / 1000;
    path.result.mbps.push((transfer.bytes - transfer.firstChunk) / secs / 1e6);
    path.result.cpuPerGiB.push(cpu.total / gib);
    path.result.engineerCipher ??= negotiatedCipher(ssh.stderr());
  } finally {
    clearTimeout(timer);
    const killer = setTimeout(() => ssh.child.kill('SIGKILL'), 10_000);
    await ssh.exited;
    clearTimeout(killer);
  }
}

function minus(a: CpuTimes, b: CpuTimes): CpuTimes {
  return { total: a.total - b.total, system: a.system - b.system };
}

function sum(times: CpuTimes[]): CpuTimes {
  return times.reduce((a, b) => ({ total: a.total + b.total, system: a.system + b.system }), { total: 0, system: 0 });
}

function emptyResult(): PathResult {
  return {
    mbps: [],
    cpuPerGiB: [],
    medianMbps: 0,
    medianCpuPerGiB: 0,
    applianceCpuPerGiB: [],
    machineCpuPerGiB: [],
    benchCpuPerGiB: [],
    medianBenchCpuPerGiB: 0,
    medianApplianceCpuPerGiB: 0,
    medianMachineCpuPerGiB: 0,
    systemCpuPerGiB: [],
    applianceSystemCpuPerGiB: [],
    medianSystemCpuPerGiB: 0,
    medianApplianceSystemCpuPerGiB: 0,
    waitShare: [],
    applianceWaitShare: [],
    medianWaitShare: 0,
    medianApplianceWaitShare: 0,
    relayIoPerMiB: [],
  };
}

async function tetherPath(): Promise<Path> {
  const tether: BenchTether = await startBenchTether();
  const sink = new ByteSink();
  let fleet: Fleet | undefined;
  try {
    await sink.start();
    const session = await tether.issue(SERIAL);
    fleet = startFleet(1, { host: '127.0.0.1', port: tether.relayPort, fp: tether.hostKey.fingerprint });
    const up = await fleet.connect([{ serial: SERIAL, privateKey: session.privateKey, port: SERVICE_PORT, target: sink.port }], 1);
    if (up.ok !== 1) throw new Error(`simulated appliance could not connect: ${up.errors.join('; ')}\n${tether.relayOutput()}`);
    const f = fleet;
    return {
      sink,
      engineer: { config: tether.engineer.sshConfig, args: ['-W', `${SERIAL}:${SERVICE_PORT}`, RELAY_ALIAS] },
      cpu: () => cpuTimes(tether.relayPid),
      applianceCpu: () => sum(f.pids.map(cpuTimes)),
      waits: () => ({ middle: treeRunqueueWaitSeconds(tether.relayPid), appliance: f.pids.reduce((s, pid) => s + treeRunqueueWaitSeconds(pid), 0) }),
      relayIo: () => ({ ...ioSyscalls(tether.relayPid), faults: minorFaults(tether.relayPid) }),
      result: { ...emptyResult(), applianceCipher: up.cipher },
      async close() {
        await f.close();
        await sink.close();
        await tether.close();
      },
    };
  } catch (err) {
    await fleet?.close();
    await sink.close();
    await tether.close();
    throw err;
  }
}

/** The same relay, appliance and sink, with the engineer's ssh forcing `cipher`. */
function withEngineerCipher(base: Path, cipher: string): Path {
  return {
    sink: base.sink,
    engineer: { config: base.engineer.config, args: ['-c', cipher, ...base.engineer.args] },
    cpu: base.cpu,
    applianceCpu: base.applianceCpu,
    waits: base.waits,
    relayIo: base.relayIo,
    result: { ...emptyResult(), applianceCipher: base.result.applianceCipher },
    close: async () => undefined,
  };
}

async function opensshPath(cipher?: string): Promise<Path> {
  const force = cipher ? ['-c', cipher] : [];
  const sshd: PrivateSshd = await startPrivateSshd();
  const sink = new ByteSink();
  let appliance: SshChild | undefined;
  try {
    await sink.start();
    // The appliance as with OpenSSH: `ssh -N -R`, the forward listening on the middle box's
    // loopback. The engineer's `-W` to it is the jump hop that `ssh -J` runs.
    const rport = await freePort();
    appliance = startSsh(sshd.sshConfig, [...force, '-N', '-o', 'ExitOnForwardFailure=yes', '-R', `127.0.0.1:${rport}:127.0.0.1:${sink.port}`, SSHD_ALIAS]);
    await appliance.waitFor(/remote forward success/);
    const a = appliance;
    return {
      sink,
      engineer: { config: sshd.sshConfig, args: [...force, '-W', `127.0.0.1:${rport}`, SSHD_ALIAS] },
      cpu: () => treeCpuTimes(sshd.pid),
      applianceCpu: () => cpuTimes(a.child.pid ?? 0),
      waits: () => ({ middle: treeRunqueueWaitSeconds(sshd.pid), appliance: treeRunqueueWaitSeconds(a.child.pid ?? 0) }),
      result: { ...emptyResult(), applianceCipher: negotiatedCipher(appliance.stderr()) },
      async close() {
        await a.stop();
        await sink.close();
        await sshd.stop();
      },
    };
  } catch (err) {
    await appliance?.stop();
    await sink.close();
    await sshd.stop();
    throw new Error(`${(err as Error).message}\nsshd output:\n${sshd.output()}`);
  }
}

export async function benchThroughput(opts: ThroughputOptions): Promise<ThroughputResult> {
  ensureSshd(opts.log);
  const bytes = opts.sizeMiB * 2 ** 20;
  const paths: { name: string; path: Path }[] = [];
  try {
    const tether = await tetherPath();
    paths.push({ name: 'tether relay', path: tether });
    paths.push({ name: 'OpenSSH sshd', path: await opensshPath() });
    paths.push({ name: 'tether relay, aes128-gcm', path: withEngineerCipher(tether, GCM) });
    paths.push({ name: 'OpenSSH sshd, aes128-gcm', path: await opensshPath(GCM) });
    // One unrecorded warm-up per path (JIT, first engineer login, windows), then alternating runs,
    // so that a noisy moment on the machine does not favour one side.
    for (const { path } of paths) await transferOnce(path, Math.min(bytes, WARMUP_BYTES), false);
    for (let run = 1; run <= opts.runs; run++) {
      for (const { name, path } of paths) {
        await transferOnce(path, bytes);
        const r = path.result;
        const io = path.relayIo ? r.relayIoPerMiB.at(-1) : undefined;
        opts.log(
          `throughput run ${run}/${opts.runs} ${name}: ${r.mbps.at(-1)?.toFixed(1)} MB/s, CPU-s/GiB middle box ${r.cpuPerGiB.at(-1)?.toFixed(2)}, ` +
            `appliance ${r.applianceCpuPerGiB.at(-1)?.toFixed(2)}, machine ${r.machineCpuPerGiB.at(-1)?.toFixed(2)}, bench feed+sink ${r.benchCpuPerGiB.at(-1)?.toFixed(2)}; ` +
            `waiting for a CPU: middle box ${pct(r.waitShare.at(-1))}, appliance ${pct(r.applianceWaitShare.at(-1))}` +
            (io ? `; relay reads / writes / page faults per MiB ${io.reads.toFixed(1)} / ${io.writes.toFixed(1)} / ${io.faults.toFixed(1)}` : ''),
        );
      }
    }
  } finally {
    for (const { path } of [...paths].reverse()) await path.close().catch(() => undefined);
  }
  const [tether, openssh, tetherGcm, opensshGcm] = paths.map(({ path }) => ({
    ...path.result,
    medianMbps: median(path.result.mbps),
    medianCpuPerGiB: median(path.result.cpuPerGiB),
    medianApplianceCpuPerGiB: median(path.result.applianceCpuPerGiB),
    medianMachineCpuPerGiB: median(path.result.machineCpuPerGiB),
    medianBenchCpuPerGiB: median(path.result.benchCpuPerGiB),
    medianSystemCpuPerGiB: median(path.result.systemCpuPerGiB),
    medianApplianceSystemCpuPerGiB: median(path.result.applianceSystemCpuPerGiB),
    medianWaitShare: median(path.result.waitShare),
    medianApplianceWaitShare: median(path.result.applianceWaitShare),
  })) as [PathResult, PathResult, PathResult, PathResult];
  return {
    sizeMiB: opts.sizeMiB,
    runs: opts.runs,
    vcpus: availableParallelism(),
    tether,
    openssh: { ...openssh, version: sshdVersion() },
    ratio: tether.medianMbps / openssh.medianMbps,
    gcm: { tether: tetherGcm, openssh: opensshGcm, ratio: tetherGcm.medianMbps / opensshGcm.medianMbps },
  };
}
