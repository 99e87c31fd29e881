// One-click latency: from spawning `ktether enable --description …` (the compiled agent, enrolled
// SMA 10.2 homes) to the first byte an engineer exchanges with the appliance's service through the
// relay (the engineer probes from the session's activation on). The server is `dist/scripts/serve.js --roles api,workers,relay` (SMTP capture on) with the
// generic help desk pointed at a local HTTP sink, so each click really opens or reuses a ticket,
// mints a sealed key and connects. Sequential runs, then N appliances clicking at once.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisApplianceStore } from '../shared/store/redis-appliance.store.js';
import type { EngineerProbe } from './lib/engineer-probe.js';
import { KTETHER_ENTRY, runKtether as runCli } from './lib/ktether-cli.js';
import { SERVE_ENTRY } from './lib/serve-child.js';
import { startServeStand } from './lib/serve-stand.js';
import { percentile, summarize, type LatencySummary } from './lib/stats.js';

const SERVICE_PORT = 443;

/** Sizes `bench/run.ts` should use: 200 sequential runs (20 with --quick), 50 appliances at once. */
export const ONECLICK_DEFAULTS = { runs: 200, quickRuns: 20, concurrent: 50 } as const;

export interface OneClickOptions {
  runs: number;
  /** Appliances clicking at the same moment. */
  concurrent: number;
  /** Interval between the engineer's attempts to open a channel (from the session's activation on). */
  probeEveryMs: number;
  log: (line: string) => void;
}

export type { LatencySummary } from './lib/stats.js';

export interface OneClickResult {
  runs: number;
  concurrent: number;
  probeEveryMs: number;
  /** Spawn of `ktether enable --description` → first echoed byte at the engineer, ms (one appliance at a time). */
  firstByte: LatencySummary;
  /** Spawn → `ktether enable` exited 0 (it returns once the tunnel is up), ms. */
  enableExit: LatencySummary;
  /** The same first-byte figure with `concurrent` appliances clicking at once, from the common start. */
  concurrentFirstByte: LatencySummary;
  /** Start → the last of the concurrent appliances reachable, ms. */
  concurrentAllReadyMs: number;
}

const runKtether = (home: string, args: string[]) => runCli(KTETHER_ENTRY, home, args);

export async function benchOneClick(opts: OneClickOptions): Promise<OneClickResult> {
  for (const f of [KTETHER_ENTRY, SERVE_ENTRY]) if (!existsSync(f)) throw new Error(`${f} does not exist: run npm run build first`);
  // The probe is the bench's one engineer, not the ticket's assignee: every engineer may reach every session here.
  const stand = await startServeStand({ name: 'oneclick-bench', env: { TETHER_ENGINEER_POLICY: 'all' } });
  const { home, echoPort, whenActivated } = stand;
  const api = stand.apiUrl;
  const appliances = new RedisApplianceStore(stand.redis, stand.prefix);
  const homes: string[] = [];

  const newAppliance = async (serial: string): Promise<string> => {
    const dir = mkdtempSync(join(tmpdir(), 'ktether-oneclick-'));
    homes.push(dir);
    const init = await runKtether(dir, [
      'init', '--serial', serial, '--product', 'sma', '--version', '10.2',
      '--vendor-key', join(home, 'keys', 'signing.pub'), '--forward', `${SERVICE_PORT}=127.0.0.1:${echoPort}`,
    ]);
    if (init.code !== 0) throw new Error(`ktether init failed (${init.code}): ${init.out}`);
    const { token } = await appliances.issueToken(serial, 600_000, Date.now());
    const enrolled = await runKtether(dir, ['enroll', '--api', api, '--token', token]);
    if (enrolled.code !== 0) throw new Error(`ktether enroll failed (${enrolled.code}): ${enrolled.out}`);
    return dir;
  };

  /**
   * One click, timed to the engineer's first echoed byte; the tether is left up. The engineer starts
   * probing a serial once its session is activated (the relay accepted the tunnel): 50 appliances
   * probed blindly every few ms would load the relay and the API with thousands of refused channel
   * opens a second and distort what is measured.
   */
  const click = async (probe: EngineerProbe, dir: string, serial: string, t0: number, everyMs: number) => {
    const up = whenActivated(serial);
    // 50 agents and their daemons starting at once on one small machine need more than the default 30 s.
    const enable = runKtether(dir, ['enable', '--description', `bench: ${serial} needs help`, '--timeout', '120s']);
    // Probing starts at activation, or at the latest when enable has returned (the tunnel is up then).
    const started = Promise.race([up, enable.then((r) => (r.code === 0 ? undefined : Promise.reject(new Error('enable failed'))))]);
    const echoed = started.then(() => probe.firstEcho(serial, SERVICE_PORT, { everyMs, timeoutMs: 120_000 }));
    const [e, at] = await Promise.all([enable, echoed.catch((err: Error) => err)]);
    if (e.code !== 0) throw new Error(`ktether enable --description failed (${e.code}): ${e.out}\n${stand.serverOutput()}`);
    if (at instanceof Error) throw at;
    return { firstByteMs: at - t0, enableExitMs: e.exitedAt - t0 };
  };

  const firstByte: number[] = [];
  const enableExit: number[] = [];
  const concurrentFirstByte: number[] = [];
  let concurrentAllReadyMs = Number.NaN;
  try {
    const probe = stand.engineer;
    opts.log(`oneclick: serve ready (signing key ${stand.signingKey.kid}); ${opts.runs} sequential clicks`);

    const serial = 'BENCHOC-0000';
    const dir = await newAppliance(serial);
    for (let run = 1; run <= opts.runs; run++) {
      const r = await click(probe, dir, serial, performance.now(), opts.probeEveryMs);
      firstByte.push(r.firstByteMs);
      enableExit.push(r.enableExitMs);
      opts.log(`oneclick run ${run}/${opts.runs}: first byte ${r.firstByteMs.toFixed(0)} ms, enable returned ${r.enableExitMs.toFixed(0)} ms`);
      const off = await runKtether(dir, ['disable']);
      if (off.code !== 0) throw new Error(`ktether disable failed (${off.code}): ${off.out}`);
    }

    opts.log(`oneclick: enrolling ${opts.concurrent} appliances`);
    const fleet: { dir: string; serial: string }[] = [];
    for (let i = 1; i <= opts.concurrent; i += 10) {
      const batch = Array.from({ length: Math.min(10, opts.concurrent - i + 1) }, (_, k) => `BENCHOC-${String(i + k).padStart(4, '0')}`);
      fleet.push(...(await Promise.all(batch.map(async (s) => ({ dir: await newAppliance(s), serial: s })))));
    }
    const t0 = performance.now();
    const results = await Promise.all(fleet.map((a) => click(probe, a.dir, a.serial, t0, opts.probeEveryMs)));
    concurrentFirstByte.push(...results.map((r) => r.firstByteMs));
    concurrentAllReadyMs = Math.max(...concurrentFirstByte);
    opts.log(`oneclick: ${opts.concurrent} at once: p50 ${percentile(concurrentFirstByte, 50).toFixed(0)} ms, last ${concurrentAllReadyMs.toFixed(0)} ms`);
    await Promise.all(fleet.map((a) => runKtether(a.dir, ['disable'])));
  } finally {
    await Promise.all(homes.map((d) => runKtether(d, ['disable']).catch(() => undefined)));
    await stand.close();
    for (const d of homes) rmSync(d, { recursive: true, force: true });
  }
  return {
    runs: opts.runs,
    concurrent: opts.concurrent,
    probeEveryMs: opts.probeEveryMs,
    firstByte: summarize(firstByte),
    enableExit: summarize(enableExit),
    concurrentFirstByte: summarize(concurrentFirstByte),
    concurrentAllReadyMs,
  };
}
