// The relay fleet's cost (issue 10): an engineer through a peer relay against one on the relay that
// holds the tunnel. Two relay children on one Redis (relay-child.js, composed as serve composes
// them), one appliance on relay A. Throughput: N MiB from stock OpenSSH (`ssh -W`) to a sink behind
// the appliance, direct (engineer on A) and crossing (engineer on B → peer link → A), runs
// alternating; CPU-s/GiB of the relays involved. Channel-open latency: an engineer logged in to
// each relay opens `direct-tcpip` to an echo service and times the first echoed byte.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { startFleet, type Fleet } from './lib/appliance-fleet.js';
import { ByteSink } from './lib/byte-sink.js';
import { connectEngineer, type EngineerProbe } from './lib/engineer-probe.js';
import { cpuSeconds } from './lib/proc.js';
import { feed, startSsh } from './lib/ssh-client.js';
import { median, percentile, round } from './lib/stats.js';
import { ENGINEER, RELAY_ALIAS, startBenchTether, startRelayChild, type BenchTether } from './lib/tether-fixture.js';

export interface FleetBenchOptions {
  sizeMiB: number;
  runs: number;
  /** Channel opens timed per path. */
  opens: number;
  log: (line: string) => void;
}

interface PathFigures {
  mbps: number[];
  cpuPerGiB: number[];
  medianMbps: number;
  medianCpuPerGiB: number;
}

export interface FleetBenchResult {
  sizeMiB: number;
  runs: number;
  direct: PathFigures;
  viaPeer: PathFigures;
  /** via-peer MB/s ÷ direct MB/s (medians). */
  ratio: number;
  open: { opens: number; directP50: number; directP99: number; viaPeerP50: number; viaPeerP99: number; extraP50: number };
}

const SINK_SERIAL = 'BENCHFLEET01';
const ECHO_SERIAL = 'BENCHFLEET02';
const WARMUP_BYTES = 16 * 2 ** 20;

async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** An ssh config whose `tether-relay` is the relay on `port` (the fleet shares one host key). */
function sshConfigFor(tether: BenchTether, port: number, name: string): string {
  const dir = join(tether.home, 'engineer');
  const knownHosts = join(dir, `known_hosts_${name}`);
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${tether.hostKey.publicLine}\n`);
  const file = join(dir, `ssh_config_${name}`);
  writeFileSync(
    file,
    [`Host ${RELAY_ALIAS}`, '  HostName 127.0.0.1', `  Port ${port}`, `  User ${ENGINEER}`, `  IdentityFile ${tether.engineer.keyFile}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes', '  BatchMode yes', ''].join('\n'),
  );
  return file;
}

async function transfer(sink: ByteSink, config: string, bytes: number, cpu: () => number): Promise<{ mbps: number; cpuPerGiB: number }> {
  const got = sink.expect(bytes);
  const cpu0 = cpu();
  const ssh = startSsh(config, ['-W', `${SINK_SERIAL}:22`, RELAY_ALIAS], { stdin: true });
  void ssh.exited.then((code) => sink.fail(new Error(`engineer ssh exited (${code}) early:\n${ssh.stderr().slice(-1_500)}`)));
  void feed(ssh.child.stdin!, bytes);
  try {
    const { transfer: t, release } = await got;
    const used = cpu() - cpu0;
    release();
    return { mbps: (t.bytes - t.firstChunk) / ((t.lastAt - t.firstAt) / 1000) / 1e6, cpuPerGiB: used / (bytes / 2 ** 30) };
  } finally {
    const killer = setTimeout(() => ssh.child.kill('SIGKILL'), 10_000);
    await ssh.exited;
    clearTimeout(killer);
  }
}

async function openTimes(probe: EngineerProbe, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    out.push((await probe.firstEcho(ECHO_SERIAL, 443, { everyMs: 0, timeoutMs: 5_000 })) - t0);
  }
  return out;
}

export async function benchFleet(opts: FleetBenchOptions): Promise<FleetBenchResult> {
  const tether = await startBenchTether();
  const relayB = startRelayChild({
    TETHER_HOME: tether.home,
    REDIS_URL: tether.redisServer.url,
    TETHER_REDIS_PREFIX: tether.prefix,
    TETHER_RELAY_PORT: '0',
    TETHER_RELAY_LISTEN: '127.0.0.1',
    TETHER_LOG_LEVEL: 'warn',
  });
  const sink = new ByteSink();
  const echo = await echoServer();
  let fleet: Fleet | undefined;
  const probes: EngineerProbe[] = [];
  try {
    const portB = await relayB.ready;
    await sink.start();
    const [toSink, toEcho] = [await tether.issue(SINK_SERIAL), await tether.issue(ECHO_SERIAL)];
    fleet = startFleet(1, { host: '127.0.0.1', port: tether.relayPort, fp: tether.hostKey.fingerprint });
    const up = await fleet.connect(
      [
        { serial: SINK_SERIAL, privateKey: toSink.privateKey, port: 22, target: sink.port },
        { serial: ECHO_SERIAL, privateKey: toEcho.privateKey, port: 443, target: echo.port },
      ],
      2,
    );
    if (up.ok !== 2) throw new Error(`simulated appliances could not connect: ${up.errors.join('; ')}\n${tether.relayOutput()}`);
    const pidB = relayB.child.pid ?? 0;
    const paths = [
      { name: 'direct (engineer on relay A)', config: sshConfigFor(tether, tether.relayPort, 'a'), cpu: () => cpuSeconds(tether.relayPid), fig: { mbps: [] as number[], cpuPerGiB: [] as number[] } },
      { name: 'via peer (engineer on relay B)', config: sshConfigFor(tether, portB, 'b'), cpu: () => cpuSeconds(tether.relayPid) + cpuSeconds(pidB), fig: { mbps: [] as number[], cpuPerGiB: [] as number[] } },
    ];
    const bytes = opts.sizeMiB * 2 ** 20;
    for (const p of paths) await transfer(sink, p.config, Math.min(bytes, WARMUP_BYTES), p.cpu);
    for (let run = 1; run <= opts.runs; run++) {
      for (const p of paths) {
        const r = await transfer(sink, p.config, bytes, p.cpu);
        p.fig.mbps.push(r.mbps);
        p.fig.cpuPerGiB.push(r.cpuPerGiB);
        opts.log(`fleet throughput run ${run}/${opts.runs} ${p.name}: ${r.mbps.toFixed(1)} MB/s, ${r.cpuPerGiB.toFixed(2)} CPU-s/GiB`);
      }
    }
    const fp = tether.hostKey.fingerprint;
    const onA = await connectEngineer({ host: '127.0.0.1', port: tether.relayPort, fp }, ENGINEER, tether.engineer.privateKey);
    const onB = await connectEngineer({ host: '127.0.0.1', port: portB, fp }, ENGINEER, tether.engineer.privateKey);
    probes.push(onA, onB);
    // Warm-up (JIT, the peer link's first dial), then alternating batches.
    await openTimes(onA, 20);
    await openTimes(onB, 20);
    const direct: number[] = [];
    const viaPeer: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      direct.push(...(await openTimes(onA, Math.ceil(opts.opens / 10))));
      viaPeer.push(...(await openTimes(onB, Math.ceil(opts.opens / 10))));
    }
    const [d, v] = paths.map((p) => ({ ...p.fig, medianMbps: median(p.fig.mbps), medianCpuPerGiB: median(p.fig.cpuPerGiB) })) as [PathFigures, PathFigures];
    opts.log(`fleet channel open p50: direct ${median(direct).toFixed(2)} ms, via peer ${median(viaPeer).toFixed(2)} ms`);
    return {
      sizeMiB: opts.sizeMiB,
      runs: opts.runs,
      direct: d,
      viaPeer: v,
      ratio: v.medianMbps / d.medianMbps,
      open: {
        opens: direct.length,
        directP50: round(percentile(direct, 50), 2),
        directP99: round(percentile(direct, 99), 2),
        viaPeerP50: round(percentile(viaPeer, 50), 2),
        viaPeerP99: round(percentile(viaPeer, 99), 2),
        extraP50: round(percentile(viaPeer, 50) - percentile(direct, 50), 2),
      },
    };
  } finally {
    for (const p of probes) p.close();
    await fleet?.close();
    await sink.close();
    await echo.close();
    if (relayB.child.exitCode === null) {
      const exited = new Promise<void>((r) => relayB.child.once('exit', () => r()));
      relayB.child.kill('SIGTERM');
      await exited;
    }
    await tether.close();
  }
}
