// Issue 9: with `ktether service` resident on the appliance, from the customer's action to the first
// byte an engineer exchanges with the appliance's service through the relay, for the key flow (SMA
// 10.1, escrow keys) and one-click (SMA 10.2, enrolled): `ktether enable` (CLI, a client of the
// service) and a click on the Tether page in Debian's Chromium, `runs` times each; then `fleet`
// appliances' services clicked at once (the page's own form POST). The same run re-measures the old
// path (CLI without a service) for comparison, and reads the service's own step timings.
// Server: `dist/scripts/serve.js --roles api,workers,relay` with the generic help desk on a local sink.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { issueKey } from '../shared/session/issue-key.js';
import { RedisApplianceStore } from '../shared/store/redis-appliance.store.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import type { Page } from 'playwright-core';
import { launchChromium } from './lib/chromium.js';
import { KTETHER_ENTRY as KTETHER, runKtether } from './lib/ktether-cli.js';
import { SERVE_ENTRY } from './lib/serve-child.js';
import { startServeStand } from './lib/serve-stand.js';
import { maxima, medians } from './lib/step-stats.js';
import { initAppliance, PAGE_PASSWORD, PageForm, removeHome, startApplianceService, type ServiceAppliance } from './lib/service-appliance.js';
import { median, summarize, type LatencySummary } from './lib/stats.js';

const SERVICE_PORT = 443;

export const SERVICE_BENCH_DEFAULTS = { baselineRuns: 10, quickBaselineRuns: 3 } as const;

export interface ServiceBenchOptions {
  runs: number;
  fleet: number;
  baselineRuns: number;
  probeEveryMs: number;
  log: (line: string) => void;
}

export type Summary = LatencySummary;

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

export async function benchApplianceService(opts: ServiceBenchOptions): Promise<ServiceBenchResult> {
  for (const f of [KTETHER, SERVE_ENTRY]) if (!existsSync(f)) throw new Error(`${f} does not exist: run npm run build first`);
  const stand = await startServeStand({ name: 'service-bench', env: { TETHER_ENGINEER_POLICY: 'all' } });
  const { home, prefix, redis, signingKey, whenActivated } = stand;
  const api = stand.apiUrl;
  const sessions = new RedisSessionStore(redis, prefix);
  const appliancesStore = new RedisApplianceStore(redis, prefix);
  const relay = { host: '127.0.0.1', port: stand.relayPort, fingerprint: stand.hostKey.fingerprint };

  const homes: string[] = [];
  const services: ServiceAppliance[] = [];
  const browser = await launchChromium().catch(async (err: unknown) => {
    await stand.close();
    throw err;
  });
  const vendorKey = join(home, 'keys', 'signing.pub');
  const forward = `${SERVICE_PORT}=127.0.0.1:${stand.echoPort}`;
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
  const firstEcho = (serial: string, t0: number) => stand.engineer.firstEcho(serial, SERVICE_PORT, { everyMs: opts.probeEveryMs, timeoutMs: 60_000 }).then((at) => at - t0);
  const stepsOf = async (svc: ServiceAppliance) => ((await svc.request({ op: 'status' })) as { service: { lastEnable: Record<string, number | null> } }).service.lastEnable;
  const disable = async (svc: ServiceAppliance) => {
    await svc.request({ op: 'disable' });
  };
  /** `ktether enable …` with the service running, timed to its exit and to the first echoed byte; then disabled. */
  const cliEnable = async (svc: ServiceAppliance, args: string[]) => {
    const t0 = performance.now();
    const [e, at] = await Promise.all([runKtether(KTETHER, svc.home, ['enable', ...args]), firstEcho(svc.serial, t0)]);
    if (e.code !== 0) throw new Error(`ktether enable ${args[0]} failed (${e.code}): ${e.out}`);
    const steps = await stepsOf(svc);
    await disable(svc);
    return { firstByteMs: at, exitMs: e.exitedAt - t0, steps };
  };
  /** Signs in to the service's Tether page; it is ready once the enable form's `field` shows. */
  const signIn = async (page: Page, svc: ServiceAppliance, field: string) => {
    await page.goto(svc.pageUrl);
    await page.locator('#password').fill(PAGE_PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator(field).waitFor();
  };
  /** Fills `field`, clicks `button`, timed to CONNECTED on the page and to the first echoed byte; then Disable. */
  const clickEnable = async (page: Page, svc: ServiceAppliance, form: { field: string; value: string; button: string }) => {
    await page.locator(form.field).fill(form.value);
    const t0 = performance.now();
    const echoed = firstEcho(svc.serial, t0);
    await page.locator(form.button).click();
    await page.locator('#tether-status[data-state="connected"]').waitFor();
    const shownMs = performance.now() - t0;
    const firstByteMs = await echoed;
    const steps = await stepsOf(svc);
    await page.locator('#disable').click();
    await page.locator(form.field).waitFor();
    return { firstByteMs, shownMs, steps };
  };

  const r = {
    cliKey: [] as number[], clickKey: [] as number[], cliOneClick: [] as number[], clickOneClick: [] as number[],
    cliKeyExit: [] as number[], clickKeyShown: [] as number[], cliOneClickExit: [] as number[], clickOneClickShown: [] as number[],
    baselineKey: [] as number[], baselineOneClick: [] as number[], fleet: [] as number[],
    stepsKey: [] as Record<string, number | null>[], stepsOneClick: [] as Record<string, number | null>[], stepsFleet: [] as Record<string, number | null>[], cliStart: [] as number[],
  }; // prettier-ignore
  let fleetAllReadyMs = Number.NaN;
  try {
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await runKtether(KTETHER, home, ['--version']);
      r.cliStart.push(performance.now() - t);
    }

    // Key flow (SMA 10.1, escrow keys), CLI with the service running.
    const keySvc = await newService('BENCHSV-KEY1', '10.1', false);
    opts.log(`appliance-service: key flow, ${opts.runs} × ktether enable --key (service running)`);
    for (let run = 1; run <= opts.runs; run++) {
      const c = await cliEnable(keySvc, ['--key', await issue(keySvc.serial)]);
      r.cliKey.push(c.firstByteMs);
      r.cliKeyExit.push(c.exitMs);
      r.stepsKey.push(c.steps);
    }

    // Key flow, a click on the page.
    const page = await browser.context.newPage();
    await signIn(page, keySvc, '#key');
    opts.log(`appliance-service: key flow, ${opts.runs} clicks on Enable (Chromium)`);
    for (let run = 1; run <= opts.runs; run++) {
      const c = await clickEnable(page, keySvc, { field: '#key', value: await issue(keySvc.serial), button: '#enable-key' });
      r.clickKeyShown.push(c.shownMs);
      r.clickKey.push(c.firstByteMs);
      r.stepsKey.push(c.steps);
    }

    // One-click (SMA 10.2, enrolled), CLI and click.
    const ocSvc = await newService('BENCHSV-OC1', '10.2', true);
    opts.log(`appliance-service: one-click, ${opts.runs} × ktether enable --description (service running)`);
    for (let run = 1; run <= opts.runs; run++) {
      const c = await cliEnable(ocSvc, ['--description', `bench run ${run}: inventory page is blank`]);
      r.cliOneClick.push(c.firstByteMs);
      r.cliOneClickExit.push(c.exitMs);
      r.stepsOneClick.push(c.steps);
    }
    await signIn(page, ocSvc, '#description');
    opts.log(`appliance-service: one-click, ${opts.runs} clicks on Enable Tether (Chromium)`);
    for (let run = 1; run <= opts.runs; run++) {
      const c = await clickEnable(page, ocSvc, { field: '#description', value: `bench click ${run}: inventory page is blank`, button: '#enable' });
      r.clickOneClickShown.push(c.shownMs);
      r.clickOneClick.push(c.firstByteMs);
      r.stepsOneClick.push(c.steps);
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
          throw new Error(`${svc.serial}: the click was refused: ${log}\n${stand.serverOutput().slice(-3_000)}`);
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
    await stand.close();
    for (const h of homes) removeHome(h);
  }
  return {
    runs: opts.runs,
    fleet: opts.fleet,
    baselineRuns: opts.baselineRuns,
    cliKey: summarize(r.cliKey),
    clickKey: summarize(r.clickKey),
    cliOneClick: summarize(r.cliOneClick),
    clickOneClick: summarize(r.clickOneClick),
    cliKeyExit: summarize(r.cliKeyExit),
    clickKeyShown: summarize(r.clickKeyShown),
    cliOneClickExit: summarize(r.cliOneClickExit),
    clickOneClickShown: summarize(r.clickOneClickShown),
    baselineKey: summarize(r.baselineKey),
    baselineOneClick: summarize(r.baselineOneClick),
    fleetFirstByte: summarize(r.fleet),
    fleetAllReadyMs,
    stepsKey: medians(r.stepsKey),
    stepsOneClick: medians(r.stepsOneClick),
    stepsFleet: medians(r.stepsFleet),
    stepsFleetMax: maxima(r.stepsFleet),
    cliStartP50: median(r.cliStart),
  };
}
