// Issue 9: with `ktether service` resident on the appliance, from the customer's action to the first
// byte an engineer exchanges with the appliance's service through the relay, for the key flow (SMA
// 10.1, escrow keys) and one-click (SMA 10.2, enrolled): `ktether enable` (CLI, a client of the
// service) and a click on the Tether page in Debian's Chromium, `runs` times each; then `fleet`
// appliances' services clicked at once (the page's own form POST). The same run re-measures the old
// path (CLI without a service) for comparison, and reads the service's own step timings.
// Server: `dist/scripts/serve.js --roles api,workers,relay` with the generic help desk on a local sink.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../shared/key/key-files.js';
import { openRedis } from '../shared/redis.js';
import { issueKey } from '../shared/session/issue-key.js';
import { RedisApplianceStore } from '../shared/store/redis-appliance.store.js';
import { parseEngineerKey } from '../shared/store/engineer.store.js';
import { RedisEngineerDirectory } from '../shared/store/redis-engineer.store.js';
import { redisKeys } from '../shared/store/redis-keys.js';
import { parseSessionEvent } from '../shared/store/session-events.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import { launchChromium } from './lib/chromium.js';
import { SERVE_ENTRY, startServe } from './lib/serve-child.js';
import { maxima, medians } from './lib/step-stats.js';
import { connectEngineer, type EngineerProbe } from './lib/engineer-probe.js';
import { freePort, startRedisServer } from './lib/redis-server.js';
import { initAppliance, PAGE_PASSWORD, PageForm, removeHome, runKtether, startApplianceService, type ServiceAppliance } from './lib/service-appliance.js';
import { median, percentile } from './lib/stats.js';
import { ed25519Pair } from '../test/helpers/ed25519-pair.js';

const DIST = resolve(import.meta.dirname, '..');
const KTETHER = join(DIST, 'scripts', 'ktether.js');
const SERVICE_PORT = 443;

export const SERVICE_BENCH_DEFAULTS = { baselineRuns: 10, quickBaselineRuns: 3 } as const;

export interface ServiceBenchOptions {
  runs: number;
  fleet: number;
  baselineRuns: number;
  probeEveryMs: number;
  log: (line: string) => void;
}

export interface Summary {
  samples: number[];
  p50: number;
  p99: number;
}

export interface ServiceBenchResult {
  runs: number;
  fleet: number;
  baselineRuns: number;
  /** Action → first echoed byte at the engineer, ms. */
  cliKey: Summary;
  clickKey: Summary;
  cliOneClick: Summary;
  clickOneClick: Summary;
  /** `ktether enable` exited (CLI) / the page showed CONNECTED after the click, ms. */
  cliKeyExit: Summary;
  clickKeyShown: Summary;
  cliOneClickExit: Summary;
  clickOneClickShown: Summary;
  /** The old path in the same run: `ktether enable` with no service (CLI + daemon processes). */
  baselineKey: Summary;
  baselineOneClick: Summary;
  /** `fleet` services clicked at once: first byte per appliance from the common start. */
  fleetFirstByte: Summary;
  fleetAllReadyMs: number;
  /** Medians of the service's own step timings (status.service.lastEnable), per flow. */
  stepsKey: Record<string, number>;
  stepsOneClick: Record<string, number>;
  /** The same for the fleet clicked at once: medians and maxima over its appliances. */
  stepsFleet: Record<string, number>;
  stepsFleetMax: Record<string, number>;
  /** `node ktether.js --version`, spawn to exit: what any CLI action pays before it can ask the service. */
  cliStartP50: number;
}

const summary = (samples: number[]): Summary => ({ samples, p50: percentile(samples, 50), p99: percentile(samples, 99) });

function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

export async function benchApplianceService(opts: ServiceBenchOptions): Promise<ServiceBenchResult> {
  for (const f of [KTETHER, SERVE_ENTRY]) if (!existsSync(f)) throw new Error(`${f} does not exist: run npm run build first`);
  const home = mkdtempSync(join(tmpdir(), 'tether-svc-bench-'));
  const redisServer = await startRedisServer();
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  const signingKey = loadOrCreateSigningKey(home);
  const hostKey = loadOrCreateRelayHostKey(home);
  const echo = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.pipe(sock);
  });
  const echoPort = await listen(echo);
  const helpDesk = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  const helpDeskPort = await listen(helpDesk);
  const [apiPort, relayPort] = [await freePort(), await freePort()];
  const api = `http://127.0.0.1:${apiPort}`;
  const redis = openRedis(redisServer.url, { name: 'service-bench' });
  const sessions = new RedisSessionStore(redis, prefix);
  const appliancesStore = new RedisApplianceStore(redis, prefix);
  const relay = { host: '127.0.0.1', port: relayPort, fingerprint: hostKey.fingerprint };
  const activated = new Map<string, () => void>();
  const subscriber = redis.duplicate();
  subscriber.on('message', (_channel: string, raw: string) => {
    const ev = parseSessionEvent(raw);
    if (ev?.outcome === 'activated') activated.get(ev.serial.toUpperCase())?.();
  });
  await subscriber.subscribe(redisKeys(prefix).events);
  const whenActivated = (serial: string) => new Promise<void>((r) => activated.set(serial.toUpperCase(), r));

  const homes: string[] = [];
  const services: ServiceAppliance[] = [];
  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  let engineer: EngineerProbe | undefined;
  const browser = await launchChromium();
  const vendorKey = join(home, 'keys', 'signing.pub');
  const forward = `${SERVICE_PORT}=127.0.0.1:${echoPort}`;
  const token = async (serial: string) => (await appliancesStore.issueToken(serial, 600_000, Date.now())).token;
  const newHome = async (serial: string, version: string, enrol: boolean) => {
    const h = await initAppliance({ ktether: KTETHER, serial, version, vendorKey, forward, ...(enrol ? { enrol: { api, token: () => token(serial) } } : {}) });
    homes.push(h);
    return h;
  };
  const newService = async (serial: string, version: string, enrol: boolean) => {
    const svc = await startApplianceService(KTETHER, serial, await newHome(serial, version, enrol));
    services.push(svc);
    return svc;
  };
  const issue = async (serial: string) =>
    (await issueKey({ serial, product: 'sma', version: '10.1', ttlMs: 7_200_000, actor: 'operator:bench' }, { sessions, signingKey, relay, now: () => Date.now() })).key;
  const firstEcho = (serial: string, t0: number) => engineer!.firstEcho(serial, SERVICE_PORT, { everyMs: opts.probeEveryMs, timeoutMs: 60_000 }).then((at) => at - t0);
  const stepsOf = async (svc: ServiceAppliance) => ((await svc.request({ op: 'status' })) as { service: { lastEnable: Record<string, number | null> } }).service.lastEnable;
  const disable = async (svc: ServiceAppliance) => {
    await svc.request({ op: 'disable' });
  };

  const r = {
    cliKey: [] as number[], clickKey: [] as number[], cliOneClick: [] as number[], clickOneClick: [] as number[],
    cliKeyExit: [] as number[], clickKeyShown: [] as number[], cliOneClickExit: [] as number[], clickOneClickShown: [] as number[],
    baselineKey: [] as number[], baselineOneClick: [] as number[], fleet: [] as number[],
    stepsKey: [] as Record<string, number | null>[], stepsOneClick: [] as Record<string, number | null>[], stepsFleet: [] as Record<string, number | null>[], cliStart: [] as number[],
  }; // prettier-ignore
  let fleetAllReadyMs = Number.NaN;
  try {
    server = await startServe({
      TETHER_HOME: home,
      REDIS_URL: redisServer.url,
      TETHER_REDIS_PREFIX: prefix,
      TETHER_API_PORT: String(apiPort),
      TETHER_RELAY_PORT: String(relayPort),
      TETHER_WEBHOOK_SECRET: 'service-bench-secret-0123456789',
      TETHER_TICKET_COMMENT_URL: `http://127.0.0.1:${helpDeskPort}/comments`,
      TETHER_HEARTBEAT_FLUSH_MS: '2000',
      TETHER_ENGINEER_POLICY: 'all',
      TETHER_LOG_LEVEL: 'warn',
    });
    const engKey = ed25519Pair('alice@bench');
    await new RedisEngineerDirectory(redis, prefix).addKey('alice', parseEngineerKey(engKey.public), Date.now());
    engineer = await connectEngineer({ host: '127.0.0.1', port: relayPort, fp: hostKey.fingerprint }, 'alice', engKey.private);

    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await runKtether(KTETHER, home, ['--version']);
      r.cliStart.push(performance.now() - t);
    }

    // Key flow (SMA 10.1, escrow keys), CLI with the service running.
    const keySvc = await newService('BENCHSV-KEY1', '10.1', false);
    opts.log(`appliance-service: key flow, ${opts.runs} × ktether enable --key (service running)`);
    for (let run = 1; run <= opts.runs; run++) {
      const key = await issue(keySvc.serial);
      const t0 = performance.now();
      const enable = runKtether(KTETHER, keySvc.home, ['enable', '--key', key]);
      const [e, at] = await Promise.all([enable, firstEcho(keySvc.serial, t0)]);
      if (e.code !== 0) throw new Error(`ktether enable failed (${e.code}): ${e.out}`);
      r.cliKey.push(at);
      r.cliKeyExit.push(e.exitedAt - t0);
      r.stepsKey.push(await stepsOf(keySvc));
      await disable(keySvc);
    }

    // Key flow, a click on the page.
    const page = await browser.context.newPage();
    await page.goto(keySvc.pageUrl);
    await page.locator('#password').fill(PAGE_PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('#key').waitFor();
    opts.log(`appliance-service: key flow, ${opts.runs} clicks on Enable (Chromium)`);
    for (let run = 1; run <= opts.runs; run++) {
      const key = await issue(keySvc.serial);
      await page.locator('#key').fill(key);
      const t0 = performance.now();
      const echoed = firstEcho(keySvc.serial, t0);
      await page.locator('#enable-key').click();
      await page.locator('#tether-status[data-state="connected"]').waitFor();
      r.clickKeyShown.push(performance.now() - t0);
      r.clickKey.push(await echoed);
      r.stepsKey.push(await stepsOf(keySvc));
      await page.locator('#disable').click();
      await page.locator('#key').waitFor();
    }

    // One-click (SMA 10.2, enrolled), CLI and click.
    const ocSvc = await newService('BENCHSV-OC1', '10.2', true);
    opts.log(`appliance-service: one-click, ${opts.runs} × ktether enable --description (service running)`);
    for (let run = 1; run <= opts.runs; run++) {
      const t0 = performance.now();
      const enable = runKtether(KTETHER, ocSvc.home, ['enable', '--description', `bench run ${run}: inventory page is blank`]);
      const [e, at] = await Promise.all([enable, firstEcho(ocSvc.serial, t0)]);
      if (e.code !== 0) throw new Error(`ktether enable --description failed (${e.code}): ${e.out}`);
      r.cliOneClick.push(at);
      r.cliOneClickExit.push(e.exitedAt - t0);
      r.stepsOneClick.push(await stepsOf(ocSvc));
      await disable(ocSvc);
    }
    await page.goto(ocSvc.pageUrl);
    await page.locator('#password').fill(PAGE_PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('#description').waitFor();
    opts.log(`appliance-service: one-click, ${opts.runs} clicks on Enable Tether (Chromium)`);
    for (let run = 1; run <= opts.runs; run++) {
      await page.locator('#description').fill(`bench click ${run}: inventory page is blank`);
      const t0 = performance.now();
      const echoed = firstEcho(ocSvc.serial, t0);
      await page.locator('#enable').click();
      await page.locator('#tether-status[data-state="connected"]').waitFor();
      r.clickOneClickShown.push(performance.now() - t0);
      r.clickOneClick.push(await echoed);
      r.stepsOneClick.push(await stepsOf(ocSvc));
      await page.locator('#disable').click();
      await page.locator('#description').waitFor();
    }
    await page.close();

    // The old path, same run and load: no service on these appliances.
    opts.log(`appliance-service: baseline, ${opts.baselineRuns} × each flow without a service`);
    const oldKeyHome = await newHome('BENCHSV-OLDK', '10.1', false);
    const oldOcHome = await newHome('BENCHSV-OLDO', '10.2', true);
    for (let run = 1; run <= opts.baselineRuns; run++) {
      const key = await issue('BENCHSV-OLDK');
      let t0 = performance.now();
      let [e, at] = await Promise.all([runKtether(KTETHER, oldKeyHome, ['enable', '--key', key]), firstEcho('BENCHSV-OLDK', t0)]);
      if (e.code !== 0) throw new Error(`baseline enable failed (${e.code}): ${e.out}`);
      r.baselineKey.push(at);
      await runKtether(KTETHER, oldKeyHome, ['disable']);
      t0 = performance.now();
      [e, at] = await Promise.all([runKtether(KTETHER, oldOcHome, ['enable', '--description', `baseline ${run}`]), firstEcho('BENCHSV-OLDO', t0)]);
      if (e.code !== 0) throw new Error(`baseline one-click failed (${e.code}): ${e.out}`);
      r.baselineOneClick.push(at);
      await runKtether(KTETHER, oldOcHome, ['disable']);
    }

    // The fleet: every service signed in, then all clicked at once.
    opts.log(`appliance-service: ${opts.fleet} services clicked at once`);
    const fleet: { svc: ServiceAppliance; form: PageForm }[] = [];
    for (let i = 1; i <= opts.fleet; i += 10) {
      const batch = Array.from({ length: Math.min(10, opts.fleet - i + 1) }, (_, k) => `BENCHSV-F${String(i + k).padStart(3, '0')}`);
      fleet.push(...(await Promise.all(batch.map(async (serial) => {
        const svc = await newService(serial, '10.2', true);
        const form = new PageForm(svc.pageUrl);
        await form.signIn();
        return { svc, form };
      })))); // prettier-ignore
    }
    const t0 = performance.now();
    const results = await Promise.all(
      fleet.map(async ({ svc, form }) => {
        const up = whenActivated(svc.serial);
        const posted = form.enableWithDescription(`fleet click: ${svc.serial} needs help`);
        await Promise.race([up, posted]);
        // A click the service refused has nothing to probe: say why instead of probing for a minute.
        const status = (await svc.request({ op: 'status' })) as { service: { tether: string } };
        if (status.service.tether === 'disabled') {
          const log = ((await svc.request({ op: 'log', lines: 3 })) as { lines: string[] }).lines.join(' | ');
          throw new Error(`${svc.serial}: the click was refused: ${log}\n${server?.output().slice(-3_000) ?? ''}`);
        }
        const at = await firstEcho(svc.serial, t0);
        if ((await posted) !== 303) throw new Error(`the page of ${svc.serial} did not answer 303`);
        return at;
      }),
    );
    r.fleet.push(...results);
    fleetAllReadyMs = Math.max(...results);
    for (const { svc } of fleet) r.stepsFleet.push(await stepsOf(svc));
    await Promise.all(fleet.map(({ svc }) => disable(svc)));
  } finally {
    opts.log('appliance-service: cleaning up');
    await Promise.race([browser.close().catch(() => undefined), new Promise((done) => setTimeout(done, 10_000))]);
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
    await Promise.all(homes.map((h) => runKtether(KTETHER, h, ['disable']).catch(() => undefined)));
    engineer?.close();
    subscriber.disconnect();
    const child = server?.child;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      await exited;
    }
    redis.disconnect();
    await redisServer.stop();
    await new Promise((done) => echo.close(() => done(undefined)));
    await new Promise((done) => helpDesk.close(() => done(undefined)));
    for (const h of [home, ...homes]) removeHome(h);
    rmSync(home, { recursive: true, force: true });
  }
  return {
    runs: opts.runs,
    fleet: opts.fleet,
    baselineRuns: opts.baselineRuns,
    cliKey: summary(r.cliKey),
    clickKey: summary(r.clickKey),
    cliOneClick: summary(r.cliOneClick),
    clickOneClick: summary(r.clickOneClick),
    cliKeyExit: summary(r.cliKeyExit),
    clickKeyShown: summary(r.clickKeyShown),
    cliOneClickExit: summary(r.cliOneClickExit),
    clickOneClickShown: summary(r.clickOneClickShown),
    baselineKey: summary(r.baselineKey),
    baselineOneClick: summary(r.baselineOneClick),
    fleetFirstByte: summary(r.fleet),
    fleetAllReadyMs,
    stepsKey: medians(r.stepsKey),
    stepsOneClick: medians(r.stepsOneClick),
    stepsFleet: medians(r.stepsFleet),
    stepsFleetMax: maxima(r.stepsFleet),
    cliStartP50: median(r.cliStart),
  };
}
