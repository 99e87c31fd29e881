// One-click latency: from spawning `ktether enable --description …` (the compiled agent, enrolled
// SMA 10.2 homes) to the first byte an engineer exchanges with the appliance's service through the
// relay (the engineer probes from the session's activation on). The server is `dist/scripts/serve.js --roles api,workers,relay` (SMTP capture on) with the
// generic help desk pointed at a local HTTP sink, so each click really opens or reuses a ticket,
// mints a sealed key and connects. Sequential runs, then N appliances clicking at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../shared/key/key-files.js';
import { openRedis } from '../shared/redis.js';
import { RedisApplianceStore } from '../shared/store/redis-appliance.store.js';
import { parseEngineerKey } from '../shared/store/engineer.store.js';
import { RedisEngineerDirectory } from '../shared/store/redis-engineer.store.js';
import { redisKeys } from '../shared/store/redis-keys.js';
import { parseSessionEvent } from '../shared/store/session-events.js';
import { connectEngineer, type EngineerProbe } from './lib/engineer-probe.js';
import { killOnExit } from './lib/kill-on-exit.js';
import { freePort, startRedisServer } from './lib/redis-server.js';
import { percentile } from './lib/stats.js';
import { ed25519Pair } from '../test/helpers/ed25519-pair.js';

const DIST = resolve(import.meta.dirname, '..');
const KTETHER = join(DIST, 'scripts', 'ktether.js');
const SERVE = join(DIST, 'scripts', 'serve.js');
const SERVICE_PORT = 443;
const ENGINEER = 'alice';

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

export interface LatencySummary {
  samples: number[];
  p50: number;
  p99: number;
}

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

const summary = (samples: number[]): LatencySummary => ({ samples, p50: percentile(samples, 50), p99: percentile(samples, 99) });

function runKtether(home: string, args: string[]): Promise<{ code: number | null; out: string; exitedAt: number }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [KTETHER, ...args], { env: { ...process.env, KTETHER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('exit', (code) => {
      const exitedAt = performance.now();
      clearTimeout(timer);
      setImmediate(() => done({ code, out, exitedAt }));
    });
  });
}

function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

function startServe(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [SERVE, '--roles', 'api,workers,relay', '--smtp-capture'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  return new Promise((resolveStart, reject) => {
    const onData = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      if (/ready: /.test(out)) resolveStart({ child, output: () => out });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before it was ready:\n${out}`)));
  });
}

export async function benchOneClick(opts: OneClickOptions): Promise<OneClickResult> {
  for (const f of [KTETHER, SERVE]) if (!existsSync(f)) throw new Error(`${f} does not exist: run npm run build first`);
  const home = mkdtempSync(join(tmpdir(), 'tether-oneclick-bench-'));
  const redisServer = await startRedisServer();
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  const signingKey = loadOrCreateSigningKey(home);
  const hostKey = loadOrCreateRelayHostKey(home);
  const echo = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.pipe(sock);
  });
  const echoPort = await listen(echo);
  // The generic help desk: tickets and comments land here and are answered 201.
  const helpDesk = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  const helpDeskPort = await listen(helpDesk);
  const [apiPort, relayPort] = [await freePort(), await freePort()];
  const api = `http://127.0.0.1:${apiPort}`;
  const redis = openRedis(redisServer.url, { name: 'oneclick-bench' });
  const appliances = new RedisApplianceStore(redis, prefix);
  const homes: string[] = [];
  // The engineer starts probing a serial once its session is activated (the relay accepted the
  // tunnel): 50 appliances probed blindly every few ms would load the relay and the API with
  // thousands of refused channel opens a second and distort what is measured.
  const activated = new Map<string, () => void>();
  const subscriber = redis.duplicate();
  subscriber.on('message', (_channel: string, raw: string) => {
    const ev = parseSessionEvent(raw);
    if (ev?.outcome === 'activated') activated.get(ev.serial.toUpperCase())?.();
  });
  await subscriber.subscribe(redisKeys(prefix).events);
  const whenActivated = (serial: string) => new Promise<void>((r) => activated.set(serial.toUpperCase(), r));
  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  let engineer: EngineerProbe | undefined;

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

  /** One click, timed to the engineer's first echoed byte; the tether is left up. */
  const click = async (probe: EngineerProbe, dir: string, serial: string, t0: number, everyMs: number) => {
    const up = whenActivated(serial);
    // 50 agents and their daemons starting at once on one small machine need more than the default 30 s.
    const enable = runKtether(dir, ['enable', '--description', `bench: ${serial} needs help`, '--timeout', '120s']);
    // Probing starts at activation, or at the latest when enable has returned (the tunnel is up then).
    const started = Promise.race([up, enable.then((r) => (r.code === 0 ? undefined : Promise.reject(new Error('enable failed'))))]);
    const echoed = started.then(() => probe.firstEcho(serial, SERVICE_PORT, { everyMs, timeoutMs: 120_000 }));
    const [e, at] = await Promise.all([enable, echoed.catch((err: Error) => err)]);
    if (e.code !== 0) throw new Error(`ktether enable --description failed (${e.code}): ${e.out}\n${server?.output() ?? ''}`);
    if (at instanceof Error) throw at;
    return { firstByteMs: at - t0, enableExitMs: e.exitedAt - t0 };
  };

  const firstByte: number[] = [];
  const enableExit: number[] = [];
  const concurrentFirstByte: number[] = [];
  let concurrentAllReadyMs = Number.NaN;
  try {
    server = await startServe({
      TETHER_HOME: home,
      REDIS_URL: redisServer.url,
      TETHER_REDIS_PREFIX: prefix,
      TETHER_API_PORT: String(apiPort),
      TETHER_RELAY_PORT: String(relayPort),
      TETHER_WEBHOOK_SECRET: 'oneclick-bench-secret-0123456789',
      TETHER_TICKET_COMMENT_URL: `http://127.0.0.1:${helpDeskPort}/comments`,
      TETHER_HEARTBEAT_FLUSH_MS: '2000',
      TETHER_LOG_LEVEL: 'warn',
    });
    const engKey = ed25519Pair(`${ENGINEER}@bench`);
    await new RedisEngineerDirectory(redis, prefix).addKey(ENGINEER, parseEngineerKey(engKey.public), Date.now());
    const probe = await connectEngineer({ host: '127.0.0.1', port: relayPort, fp: hostKey.fingerprint }, ENGINEER, engKey.private);
    engineer = probe;
    opts.log(`oneclick: serve ready (signing key ${signingKey.kid}); ${opts.runs} sequential clicks`);

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
    engineer?.close();
    subscriber.disconnect();
    const child = server?.child;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    }
    redis.disconnect();
    await redisServer.stop();
    await new Promise((r) => echo.close(() => r(undefined)));
    await new Promise((r) => helpDesk.close(() => r(undefined)));
    for (const d of [home, ...homes]) rmSync(d, { recursive: true, force: true });
  }
  return {
    runs: opts.runs,
    concurrent: opts.concurrent,
    probeEveryMs: opts.probeEveryMs,
    firstByte: summary(firstByte),
    enableExit: summary(enableExit),
    concurrentFirstByte: summary(concurrentFirstByte),
    concurrentAllReadyMs,
  };
}
