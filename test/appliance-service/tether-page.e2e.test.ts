// The appliance's Tether page in a real browser (Debian's Chromium, headless), served by a real
// `ktether service` on simulated appliances, against the real server (api, workers, relay) and
// stock OpenSSH as the engineer: SMA 10.2 and SDA 6.1 enable with a description (one-click), SMA
// 10.1 and SDA 6.0 with a pasted key. Each: enable → CONNECTED → the engineer's `ssh -W` reaches
// port 22 → Disable Tether → the engineer channel closes and the page says so; and a key support
// pushed to an enrolled appliance, accepted from the page. Screenshots go to test-artifacts/appliance-page/.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyPassword } from '../../appliance/accounts/file-accounts.js';
import { openBrowser, type Browser } from '../console/browser.js';
import { startApplianceSshd, startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { eventually } from '../helpers/processes.js';
import { simulatedAppliance, type SimulatedAppliance } from '../helpers/tether-system.js';
import { enrolledAppliance, startOneClickSystem, type OneClickSystem } from '../oneclick/helpers/oneclick-system.js';
import { ARTIFACTS, setPagePassword, shot, signIn, startService, type RunningService } from './service-harness.js';

let s: OneClickSystem;
let sshd: TcpService;
let web: TcpService;
let b: Browser;
const services: RunningService[] = [];
const engineers: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  s = await startOneClickSystem(inject('redisUrl'));
  sshd = await startApplianceSshd();
  web = await startEchoService();
  b = await openBrowser('http://127.0.0.1');
}, 90_000);

afterAll(async () => {
  for (const e of engineers) e.kill('SIGKILL');
  for (const svc of services) await svc.stop('SIGKILL');
  await b?.close();
  await s?.close();
  await sshd?.close();
  await web?.close();
});

const kaceHash = (home: string) => (JSON.parse(readFileSync(join(home, 'accounts.json'), 'utf8')) as Record<string, { passwordHash: string }>).kace_support?.passwordHash;

/** `ssh -W SERIAL:22 tether-relay`: resolves once the appliance's sshd has greeted the engineer. */
function engineerToPort22(serial: string) {
  const child = spawn('ssh', ['-F', s.system.engineer.sshConfig, '-o', 'BatchMode=yes', '-W', `${serial}:22`, 'tether-relay'], { stdio: ['pipe', 'pipe', 'pipe'] });
  engineers.push(child);
  let out = '';
  const greeted = new Promise<string>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d.toString()), out.includes('\n') && resolve(out))));
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(Date.now())));
  return { greeted, exited };
}

const cases = [
  { product: 'sma', version: '10.2', serial: 'K1000-PAGE102', flow: 'description' },
  { product: 'sda', version: '6.1', serial: 'SDA-PAGE61', flow: 'description' },
  { product: 'sma', version: '10.1', serial: 'K1000-PAGE101', flow: 'key' },
  { product: 'sda', version: '6.0', serial: 'SDA-PAGE60', flow: 'key' },
] as const;

describe('the Tether page, end to end in Chromium', () => {
  for (const c of cases) {
    const label = `${c.product.toUpperCase()} ${c.version}`;
    const slug = `${c.product}-${c.version.replace('.', '')}`;
    it(`${label} (${c.flow === 'description' ? 'a description' : 'a pasted key'}): enable shows CONNECTED, ssh -W reaches port 22, Disable Tether closes the engineer channel and the page says so`, async () => {
      const spec = { serial: c.serial, product: c.product, version: c.version, forwards: { 22: sshd.port, 443: web.port } };
      const box: SimulatedAppliance = c.flow === 'description' ? await enrolledAppliance(s, spec) : await simulatedAppliance(s.system, spec);
      expect((await setPagePassword(box.home)).code).toBe(0);
      const svc = await startService(box.home);
      services.push(svc);
      const { page } = b;
      await b.context.clearCookies();
      // Forward targets default to the appliance's own services, so the product's ports are all offered.
      const ports = c.product === 'sma' ? '22 (SSH), 80 (HTTP), 443 (HTTPS) and 3306 (database)' : '22 (SSH), 80 (HTTP) and 443 (HTTPS)';

      await page.goto(svc.pageUrl);
      await page.locator('#password').waitFor();
      if (c.serial === 'K1000-PAGE102') await shot(page, 'sign-in');
      await signIn(page);
      const status = page.locator('#tether-status');
      await status.waitFor();
      expect(await status.textContent()).toBe('DISABLED');
      // The consent sentence names the ports the vendor would reach, before anything is enabled.
      const reach = (await page.locator('#reach').textContent()) ?? '';
      expect(reach).toMatch(/Nothing is reachable now/);
      expect(reach).toContain(`ports ${ports}`);
      expect(await page.locator('.appliance').textContent()).toContain(`${c.product.toUpperCase()} ${c.serial} · version ${c.version}`);

      let key = '';
      if (c.flow === 'description') {
        // The version allows one-click: the description form comes first, Enable Tether on it.
        expect(await page.locator('#description').isVisible()).toBe(true);
        expect(await page.locator('#enable').textContent()).toBe('Enable Tether');
        await shot(page, `${slug}-1-disabled`);
        await page.locator('#description').fill(`The ${label} inventory page is blank since the upgrade`);
        await page.locator('#enable').click();
      } else {
        // Older versions: only the key box, its button says Enable.
        expect(await page.locator('#description').count()).toBe(0);
        expect(await page.locator('#enable-key').textContent()).toBe('Enable');
        const issued = await s.system.tether(['key', 'issue', '--serial', c.serial, '--product', c.product, '--ttl', '2h']);
        expect(issued.code).toBe(0);
        key = issued.stdout.trim();
        // Pasted the way a mail client wraps it.
        await page.locator('#key').fill(key.match(/.{1,72}/g)!.join('\n'));
        await shot(page, `${slug}-1-disabled`);
        await page.locator('#enable-key').click();
      }

      await page.locator('#tether-status[data-state="connected"]').waitFor({ timeout: 20_000 });
      expect(await page.locator('#flash').textContent()).toContain(`Tether enabled: support can reach ports ${ports} until `);
      const session = (await s.system.sessions.list()).find((x) => x.serial === c.serial && x.state === 'CONNECTED')!;
      expect(session).toBeDefined();
      const rows = await page.locator('#status-rows').textContent();
      expect(rows).toContain(session.id);
      expect(rows).toContain(`Vendor can reachports ${ports}`);
      expect(rows).toMatch(/Until\w{3}, \w{3} \d\d \d{4} \d\d:\d\d:\d\d \S+ \(in \d/);
      if (c.flow === 'description') expect(rows).toContain(`generic:${session.ticket!.id}`);
      expect(await page.locator('#enable-form, #key-form').count()).toBe(0);
      await shot(page, `${slug}-2-connected`);

      if (c.flow === 'key') {
        // An escrow key: the password was made here, and custody holds exactly that one.
        await eventually(async () => (await s.system.tether(['session', 'credentials', session.id, '--engineer', 'alice'])).code === 0, 10_000);
        const revealed = await s.system.tether(['session', 'credentials', session.id, '--engineer', 'alice']);
        expect(verifyPassword(kaceHash(box.home)!, revealed.stdout.trim())).toBe(true);
      }

      const engineer = engineerToPort22(c.serial);
      expect(await engineer.greeted).toMatch(/^SSH-2\.0-/);
      // The page's script shows the open engineer connection (it refreshes every 2 s).
      await page.locator('#status-rows', { hasText: '1 on port 22' }).waitFor({ timeout: 6_000 });
      await shot(page, `${slug}-3-engineer-connected`);

      const clicked = Date.now();
      await page.locator('#disable').click();
      const closedAt = await engineer.exited;
      expect(closedAt - clicked).toBeLessThan(1_000);
      await page.locator('#tether-status[data-state="disabled"]').waitFor();
      expect(await page.locator('#flash').textContent()).toBe('Tether disabled: the vendor can no longer reach this appliance, and kace_support is removed.');
      expect(await page.locator('#status-rows').textContent()).toMatch(/Open engineer connections\s*none/);
      const log = (await page.locator('#log').textContent()) ?? '';
      expect(log).toMatch(/engineer channel to port 22 opened/);
      expect(log).toMatch(/engineer channel to port 22 closed/);
      expect(log).toMatch(/Tether disabled\./);
      await shot(page, `${slug}-4-disabled`);

      expect(await s.system.sessions.get(session.id)).toMatchObject({ state: 'CLOSED', reason: 'customer_disabled' });
      expect(kaceHash(box.home)).toBeUndefined();
      expect(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])).toEqual([]);
      expect(b.problems).toEqual([]);
      await svc.stop();
      await box.close();
    }, 90_000);
  }

  it('a key support pushed to an enrolled SMA 10.1 waits on the page; Accept and enable brings it up, and the inbox is empty after', async () => {
    const serial = 'K1000-PAGEPUSH';
    const box = await enrolledAppliance(s, { serial, product: 'sma', version: '10.1', forwards: { 22: sshd.port, 443: web.port } });
    expect((await setPagePassword(box.home)).code).toBe(0);
    const svc = await startService(box.home);
    services.push(svc);
    const { page } = b;
    await b.context.clearCookies();
    await page.goto(svc.pageUrl);
    await page.locator('#password').waitFor();
    await signIn(page);
    await page.locator('#tether-status').waitFor();
    // Nothing pushed yet: no waiting card.
    expect(await page.locator('#waiting').count()).toBe(0);

    // Support issues a key: the appliance is enrolled, so it is sealed and pushed to its inbox.
    const issued = await s.system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '2h', '--json']);
    expect(issued.code, issued.stderr).toBe(0);
    const { id } = JSON.parse(issued.stdout) as { id: string };
    await page.reload();
    const line = page.locator('#waiting-line');
    await line.waitFor();
    expect(await line.textContent()).toMatch(new RegExp(`^Session ${id}, usable until \\w{3}, \\w{3} \\d\\d \\d{4} \\d\\d:\\d\\d:\\d\\d \\S+ \\(in (1 h 59 min|2 h 0 min)\\)\\.$`));
    await shot(page, 'pushed-1-waiting');

    await page.locator('#accept-pending').click();
    await page.locator('#tether-status[data-state="connected"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('#flash').textContent()).toContain('Tether enabled: support can reach ports 22 (SSH), 80 (HTTP), 443 (HTTPS) and 3306 (database) until ');
    expect(await page.locator('#status-rows').textContent()).toContain(id);
    expect(await page.locator('#waiting, #key-form').count()).toBe(0);
    expect((await s.system.sessions.require(id)).state).toBe('CONNECTED');
    const engineer = engineerToPort22(serial);
    expect(await engineer.greeted).toMatch(/^SSH-2\.0-/);
    await shot(page, 'pushed-2-connected');

    await page.locator('#disable').click();
    await engineer.exited;
    await page.locator('#tether-status[data-state="disabled"]').waitFor();
    await page.reload();
    await page.locator('#tether-status').waitFor();
    // The used key left the inbox: nothing waits any more.
    expect(await page.locator('#waiting').count()).toBe(0);
    expect((await s.system.sessions.require(id)).state).toBe('CLOSED');
    expect(b.problems).toEqual([]);
    await svc.stop();
    await box.close();
  }, 90_000);
});
