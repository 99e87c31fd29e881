// Bad input on the Tether page of a running `ktether service` (compiled, a throw-away ssh2 relay,
// Debian's Chromium for what a customer sees, plain HTTP for what a forged request sends): no
// password set, wrong password and the sign-in rate limit, CSRF, garbage / tampered / other-serial
// / expired / used keys, empty and 10,000-character descriptions, a second enable while connected,
// untrusted log text. Each: one line on the page, nothing changed, the service still serving.
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentPaths } from '../../appliance/agent-home.js';
import { readTetherState } from '../../appliance/tether-state.js';
import { initApplianceHome } from '../appliance/appliance-home.js';
import type { TestVendor } from '../appliance/appliance-keys.js';
import { keyWithFreshRelay, type FakeRelay } from '../appliance/fake-relay.js';
import { buildKtether, type KtetherBuild } from '../appliance/ktether-build.js';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { openBrowser, type Browser } from '../console/browser.js';
import { ARTIFACTS, homeSnapshot, PageClient, setPagePassword, shot, signIn, startService, UI_PASSWORD, type RunningService } from './service-harness.js';

const SERIAL = 'K1000-PAGEBAD';
let build: KtetherBuild;
let b: Browser;
let dir: string, paths: AgentPaths, vendor: TestVendor;
let echo: TcpService;
let svc: RunningService | undefined;
const relays: FakeRelay[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  build = await buildKtether();
  echo = await startEchoService();
  b = await openBrowser('http://127.0.0.1');
}, 120_000);

afterAll(async () => {
  await b?.close();
  echo?.close();
});

beforeEach(async () => {
  ({ dir, paths, vendor } = await initApplianceHome(build, { tag: 'ktether-page-', serial: SERIAL, version: '10.2', ports: [22, 443], target: echo.port }));
  await b.context.clearCookies();
});

afterEach(async () => {
  await svc?.stop('SIGKILL');
  svc = undefined;
  for (const r of relays.splice(0)) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(): Promise<RunningService> {
  expect((await setPagePassword(paths.home)).code).toBe(0);
  svc = await startService(paths.home);
  return svc;
}

async function freshKey(over: Parameters<TestVendor['key']>[0] = {}) {
  const { key, relay } = await keyWithFreshRelay(vendor, SERIAL, over);
  relays.push(relay);
  return key;
}

const snapshot = () => homeSnapshot(paths.home);

async function stillServing(): Promise<void> {
  const s = await build.run(['status', '--json'], { KTETHER_HOME: paths.home });
  expect(s.code, s.stderr).toBe(0);
  expect(JSON.parse(s.stdout).service.pid).toBe(svc!.proc.child.pid);
}

describe('the Tether page refuses bad input', () => {
  it('is not served until its password is set: one line says how', async () => {
    svc = await startService(paths.home);
    const r = await new PageClient(svc.pageUrl).get();
    expect(r.status).toBe(503);
    expect(r.html).toContain('Set the page password on the appliance first: ktether init --ui-password-file FILE');
    const short = await build.run(['init', '--ui-password-file', '/dev/null'], { KTETHER_HOME: paths.home });
    expect(short.code).toBe(2);
    expect(short.stderr).toBe('ktether: --ui-password-file: the page password needs at least 10 characters\n');
  });

  it('every answer carries the security headers; no inline script or style; only its own routes', async () => {
    const { pageUrl } = await serve();
    const c = new PageClient(pageUrl);
    for (const path of ['', '/page.js', '/page.css', '/nothing-here']) {
      const r = await c.get(path);
      expect(r.headers.get('content-security-policy'), path).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'",
      );
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect((await c.get('/nothing-here')).status).toBe(404);
    expect((await c.get('/page.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await c.signIn()).toBe(303);
    const page = await c.get();
    expect(page.html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.html).not.toMatch(/\sstyle=|\son[a-z]+=/);
    const cookie = (await fetch(pageUrl)).headers.get('set-cookie');
    expect(cookie).toMatch(/^ktether_ui=[A-Za-z0-9_-]{43}; Path=\/support\/tether; HttpOnly; SameSite=Strict$/);
    const put = await fetch(pageUrl, { method: 'PUT' });
    expect(put.status).toBe(405);
  });

  it('a wrong password gets one line; after five, even the right one is refused for a while (429, Retry-After)', async () => {
    const { pageUrl } = await serve();
    const { page } = b;
    await page.goto(pageUrl);
    await signIn(page, 'not the password');
    expect(await page.locator('#flash').textContent()).toBe('Wrong password.');
    expect(await page.locator('#tether-status').count()).toBe(0);
    await shot(page, 'refused-wrong-password');

    const c = new PageClient(pageUrl);
    for (let i = 0; i < 4; i++) expect(await c.signIn(`wrong-${i}-password`)).toBe(401);
    await c.get();
    const locked = await c.post('/sign-in', { password: UI_PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(locked.html).toContain('Too many failed sign-ins: try again in 15 min.');
    expect(readFileSync(paths.logFile, 'utf8')).toMatch(/Tether page: sign-in from 127\.0\.0\.1 refused: too many failed sign-ins/);
    await stillServing();
  });

  it('a burst of parallel wrong sign-ins is limited like one after another: five get "Wrong password.", the rest and then the right one 429', async () => {
    const { pageUrl } = await serve();
    const c = new PageClient(pageUrl);
    await c.get();
    // All at once: their password checks (scrypt, off the event loop) overlap.
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => c.post('/sign-in', { password: `wrong-${i}-password` })));
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses.filter((st) => st === 401)).toHaveLength(5);
    expect(statuses.filter((st) => st === 429)).toHaveLength(15);
    const right = await c.post('/sign-in', { password: UI_PASSWORD });
    expect(right.status).toBe(429);
    expect(right.html).toContain('Too many failed sign-ins: try again in 15 min.');
    await stillServing();
  });

  it('cookieless requests never sign the customer out: past the cap on signed-out sessions new ones are refused (503, one line), the signed-in session keeps working', async () => {
    const { pageUrl } = await serve();
    const customer = new PageClient(pageUrl);
    expect(await customer.signIn()).toBe(303);
    const answers: { status: number; html: string; retryAfter: string | null }[] = [];
    for (let batch = 0; batch < 5; batch++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, async () => {
            const r = await fetch(pageUrl);
            return { status: r.status, html: await r.text(), retryAfter: r.headers.get('retry-after') };
          }),
        )),
      );
    }
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(200);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(50);
    expect(refused[0]!.html).toContain('Too many sign-in pages are open at once: try again in a few minutes.');
    expect(refused[0]!.retryAfter).toBe('60');
    // The customer is still signed in: the status poll and the page answer as before.
    const poll = await fetch(`${pageUrl}/status.json`, { headers: { cookie: customer.cookie } });
    expect(poll.status).toBe(200);
    const view = await customer.get();
    expect(view.html).toContain('id="tether-status"');
    await stillServing();
  });

  it('POSTs without the session, or with a missing or foreign CSRF token, are refused and change nothing', async () => {
    const { pageUrl } = await serve();
    const key = await freshKey();
    const before = snapshot();
    const anonymous = new PageClient(pageUrl);
    expect((await anonymous.post('/enable', { mode: 'key', key: key.text, password_choice: 'generated' }, { csrf: 'x' })).status).toBe(401);

    const c = new PageClient(pageUrl);
    expect(await c.signIn()).toBe(303);
    const other = new PageClient(pageUrl);
    expect(await other.signIn()).toBe(303);
    const missing = await c.post('/enable', { mode: 'key', key: key.text, password_choice: 'generated' }, { csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.html).toContain('The form was stale or not from this page (CSRF check failed): reload the page and try again.');
    expect((await c.post('/enable', { mode: 'key', key: key.text }, { csrf: other.csrf })).status).toBe(403);
    expect((await c.post('/disable', {}, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await c.post('/enable', { mode: 'key', key: key.text }, { type: 'application/json' })).status).toBe(415);
    expect((await c.post('/enable', { mode: 'key', key: 'K'.repeat(70_000) })).status).toBe(413);
    expect(snapshot()).toEqual(before);
    await stillServing();
  });

  it('garbage, tampered, other-serial, expired and used keys, empty and 10,000-character descriptions, a short own password: one line each, nothing changes', async () => {
    const { pageUrl } = await serve();
    const used = await freshKey();
    const usedRun = await build.run(['enable', '--key', used.text], { KTETHER_HOME: paths.home });
    expect(usedRun.code, usedRun.stderr).toBe(0);
    expect((await build.run(['disable'], { KTETHER_HOME: paths.home })).code).toBe(0);
    const good = await freshKey();
    const [head, , sig] = good.text.split('.');
    const now = Math.floor(Date.now() / 1000);
    const keys: [string, string, string][] = [
      ['garbage', 'not a key at all', 'Key is malformed: expected KT1.<payload>.<signature>'],
      ['tampered', `${head}.${Buffer.from(JSON.stringify({ ...good.payload, ports: [22, 443, 3306] })).toString('base64url')}.${sig}`, 'Key signature is invalid: the key was altered or damaged'],
      ['other-serial', (await freshKey({ serial: 'K1000-ELSEWHERE' })).text, `Key is for serial K1000-ELSEWHERE, not this appliance (${SERIAL})`],
      ['expired', (await freshKey({ iat: now - 7200, exp: now - 3600 })).text, `Key expired at ${new Date((now - 3600) * 1000).toISOString()}`],
      ['used', used.text, 'Key already used'],
      ['empty', '   ', 'Paste the tether key from support first (it starts with KT1.).'],
    ];
    const { page } = b;
    await page.goto(pageUrl);
    await signIn(page);
    for (const [what, text, line] of keys) {
      const before = snapshot();
      // The key box stays open after a refused key, with the reason above.
      if (!(await page.locator('#key').isVisible())) await page.locator('details.alt summary').click();
      await page.locator('#key').fill(text);
      await page.locator('#enable-key').click();
      await page.locator('#flash.flash-error').waitFor();
      expect(await page.locator('#flash').textContent(), what).toBe(line);
      expect(await page.locator('#key').isVisible(), what).toBe(true);
      expect(await page.locator('#tether-status').textContent(), what).toBe('DISABLED');
      if (what === 'tampered') await shot(page, 'refused-tampered-key');
      expect(snapshot(), what).toEqual(before);
    }

    const descriptions: [string, () => Promise<void>, string][] = [
      ['empty description', () => page.locator('#description').fill(''), 'Describe the problem first (for example: "the inventory page is blank").'],
      // The box stops typing at 4,000 characters; a forged form can still send 10,000.
      ['10,000 characters', () => page.locator('#description').evaluate((el) => void ((el as HTMLTextAreaElement).value = 'x'.repeat(10_000))), 'The description is too long: 10000 characters, at most 4000.'],
      ['not enrolled', () => page.locator('#description').fill('the inventory page is blank'), 'This appliance is not enrolled: run ktether enroll --api URL --token T (the token comes from support)'],
    ];
    for (const [what, fill, line] of descriptions) {
      const before = snapshot();
      await fill();
      await page.locator('#enable').click();
      await page.locator('#flash.flash-error').waitFor();
      expect(await page.locator('#flash').textContent(), what).toBe(line);
      if (what === '10,000 characters') {
        // The customer's words come back in the box (cut to what it takes), the reason above them.
        expect(await page.locator('#description').inputValue()).toBe('x'.repeat(4_000));
        await shot(page, 'refused-long-description');
      }
      expect(snapshot(), what).toEqual(before);
    }
    const before = snapshot();
    await page.locator('details.alt summary').click();
    await page.locator('#key').fill(good.text);
    await page.locator('#key-form input[value="own"]').check();
    await page.locator('#key-form input[name="password"]').fill('short');
    await page.locator('#enable-key').click();
    await page.locator('#flash.flash-error').waitFor();
    expect(await page.locator('#flash').textContent()).toBe('Your support password needs at least 8 characters and no line breaks.');
    expect(snapshot()).toEqual(before);
    expect(b.problems).toEqual([]);
    await stillServing();
  });

  it('a second enable while connected (another tab) is refused with one line and the live tether is untouched', async () => {
    const { pageUrl } = await serve();
    const first = await freshKey();
    const second = await freshKey();
    const { page } = b;
    await page.goto(pageUrl);
    await signIn(page);
    const tab2 = await b.context.newPage();
    await tab2.goto(pageUrl);
    await page.locator('details.alt summary').click();
    await page.locator('#key').fill(first.text);
    await page.locator('#enable-key').click();
    await page.locator('#tether-status[data-state="connected"]').waitFor();
    const live = snapshot();

    await tab2.locator('details.alt summary').click();
    await tab2.locator('#key').fill(second.text);
    await tab2.locator('#enable-key').click();
    await tab2.locator('#flash.flash-error').waitFor();
    expect(await tab2.locator('#flash').textContent()).toBe('A tether is already enabled: disable it first.');
    expect(await tab2.locator('#tether-status').textContent()).toBe('CONNECTED');
    expect(snapshot()).toEqual(live);
    expect(readTetherState(paths)).toMatchObject({ state: 'connected', sessionId: first.payload.sid });
    await tab2.close();
    await page.locator('#disable').click();
    await page.locator('#tether-status[data-state="disabled"]').waitFor();
    await stillServing();
  });

  it('untrusted text (a relay reason, a log line) is shown as text, never as markup', async () => {
    const { pageUrl } = await serve();
    appendFileSync(paths.logFile, 'relay said: <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>\n');
    const { page } = b;
    await page.goto(pageUrl);
    await signIn(page);
    await page.locator('#log').waitFor();
    expect(await page.locator('#log').textContent()).toContain('relay said: <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>');
    expect(await page.locator('#log img, #log script').count()).toBe(0);
    // The script's refresh renders it as text too.
    await page.waitForResponse((r) => r.url().endsWith('/support/tether/status.json'), { timeout: 5_000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    expect(await page.locator('#log img, #log script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])).toEqual([]);
  });
});
