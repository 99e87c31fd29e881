// Time from `ktether enable --key …` (the compiled agent CLI, on a simulated appliance home) to the
// first byte an engineer exchanges with the appliance's service through the relay. Each run uses
// a fresh key; `ktether disable` in between. Also reports when `enable` itself returned.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer } from './lib/echo-server.js';
import { connectEngineer } from './lib/engineer-probe.js';
import { KTETHER_ENTRY as KTETHER, runKtether as runCli } from './lib/ktether-cli.js';
import { percentile } from './lib/stats.js';
import { ENGINEER, startBenchTether } from './lib/tether-fixture.js';

export interface EnableLatencyOptions {
  runs: number;
  /** Interval between the engineer's attempts to open a channel. */
  probeEveryMs: number;
  log: (line: string) => void;
}

export interface EnableLatencyResult {
  runs: number;
  probeEveryMs: number;
  /** Spawn of `ktether enable` → first echoed byte at the engineer, ms. */
  firstByteMs: number[];
  /** Spawn of `ktether enable` → the command exited 0 (it waits for the tunnel), ms. */
  enableExitMs: number[];
  firstByteP50: number;
  firstByteP99: number;
  enableExitP50: number;
  enableExitP99: number;
}

const SERIAL = 'BENCHEN0001';
const SERVICE_PORT = 443;

const runKtether = (home: string, args: string[]) => runCli(KTETHER, home, args, 60_000);

/** Waits for ktether.js to exist (another helper may still be building it). */
async function waitForAgent(log: (line: string) => void, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (!existsSync(KTETHER)) log(`enable-latency: waiting for ${KTETHER} (run npm run build)`);
  while (!existsSync(KTETHER)) {
    if (Date.now() > deadline) throw new Error(`${KTETHER} does not exist: build the agent first (npm run build)`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export async function benchEnableLatency(opts: EnableLatencyOptions): Promise<EnableLatencyResult> {
  await waitForAgent(opts.log);
  const echo = await startEchoServer();
  const tether = await startBenchTether({ heartbeatFlushMs: 2_000 });
  const home = mkdtempSync(join(tmpdir(), 'ktether-bench-'));
  const relay = { host: '127.0.0.1', port: tether.relayPort, fp: tether.hostKey.fingerprint };
  const engineer = await connectEngineer(relay, ENGINEER, tether.engineer.privateKey);
  const firstByteMs: number[] = [];
  const enableExitMs: number[] = [];
  try {
    const init = await runKtether(home, [
      'init', '--serial', SERIAL, '--product', 'sma', '--version', '10.1',
      '--vendor-key', join(tether.home, 'keys', 'signing.pub'),
      '--forward', `${SERVICE_PORT}=127.0.0.1:${echo.port}`,
    ]);
    if (init.code !== 0) throw new Error(`ktether init failed (${init.code}): ${init.out}`);
    for (let run = 1; run <= opts.runs; run++) {
      const { key } = await tether.issue(SERIAL);
      const t0 = performance.now();
      const enable = runKtether(home, ['enable', '--key', key]);
      const echoed = engineer.firstEcho(SERIAL, SERVICE_PORT, { everyMs: opts.probeEveryMs, timeoutMs: 30_000 });
      const [e, at] = await Promise.all([enable, echoed.catch((err: Error) => err)]);
      if (e.code !== 0) throw new Error(`ktether enable failed (${e.code}): ${e.out}\n${tether.relayOutput()}`);
      if (at instanceof Error) throw at;
      firstByteMs.push(at - t0);
      enableExitMs.push(e.exitedAt - t0);
      opts.log(`enable-latency run ${run}/${opts.runs}: first byte ${(at - t0).toFixed(0)} ms, enable returned ${(e.exitedAt - t0).toFixed(0)} ms`);
      const off = await runKtether(home, ['disable']);
      if (off.code !== 0) throw new Error(`ktether disable failed (${off.code}): ${off.out}`);
    }
  } finally {
    await runKtether(home, ['disable']).catch(() => undefined);
    engineer.close();
    await tether.close();
    await echo.close();
    rmSync(home, { recursive: true, force: true });
  }
  return {
    runs: opts.runs,
    probeEveryMs: opts.probeEveryMs,
    firstByteMs,
    enableExitMs,
    firstByteP50: percentile(firstByteMs, 50),
    firstByteP99: percentile(firstByteMs, 99),
    enableExitP50: percentile(enableExitMs, 50),
    enableExitP99: percentile(enableExitMs, 99),
  };
}
