// The console in a real browser (Debian's Chromium, headless), against the real api and an
// in-process relay: what a support engineer clicks through, asserted on screen, with screenshots
// saved to test-artifacts/console/. Tests run in order and share one system.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addEngineer, connectAppliance, forwardPorts, runSsh, startService, type Appliance, type EngineerKey, type SshRun } from '../relay/relay-harness.js';
import { openBrowser, type Browser } from './browser.js';
import { live, rowState, shown, signIn, tabTo, text } from './console-page.js';
import { seedOf, sessionIdOf, startConsoleSystem, type ConsoleOperator, type ConsoleSystem } from './console-harness.js';

const XSS = '<img src=x onerror=window.__xss=1>';
const ZENDESK_URL = 'https://acme.zendesk.example';

let sys: ConsoleSystem;
let admin: ConsoleOperator;
let viewer: ConsoleOperator;
let echo: Awaited<ReturnType<typeof startService>>;
let alice: EngineerKey;
let b: Browser;
const browsers: Browser[] = [];
const appliances: Appliance[] = [];
const engineers: SshRun[] = [];

/** The session issued through the console's own page, and the one issued while the list was open. */
const first = { serial: 'SN-CONSOLE-1', key: '', sid: '' };
const second = { serial: 'SN-CONSOLE-2', key: '', sid: '' };

beforeAll(async () => {
  // Zendesk with its URL: its tickets get a link in the console (no request is made to it here).
  sys = await startConsoleSystem(inject('redisUrl'), {
    env: { TETHER_ZENDESK_WEBHOOK_SECRET: 'z'.repeat(24), TETHER_ZENDESK_URL: ZENDESK_URL, TETHER_ZENDESK_EMAIL: 'agent@vendor.example', TETHER_ZENDESK_API_TOKEN: 'zendesk-token' },
  });
  admin = await sys.addOperator('olivia', 'admin');
  viewer = await sys.addOperator('victor', 'viewer');
  echo = await startService('');
  alice = await addEngineer(sys.relay, 'alice');
  b = await openBrowser(sys.baseUrl);
  browsers.push(b);
  await b.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: sys.baseUrl });
}, 60_000);

afterAll(async () => {
  for (const e of engineers) e.child.kill();
  for (const a of appliances) a.end();
  for (const br of browsers) await br.close().catch(() => undefined);
  await echo?.close();
  await sys?.close();
});

async function connect(serial: string, key: string): Promise<Appliance> {
  const app = await connectAppliance(sys.relay, { serial, seed: seedOf(key) });
  appliances.push(app);
  await forwardPorts(app, { 443: echo.port });
  return app;
}

describe('signing in', () => {
  it('refuses a wrong token with a message, then signs an admin in by keyboard and shows who is signed in', async () => {
    const { page } = b;
    await page.goto('/console/');
    await page.locator('#token:focus').waitFor();
    // No SSO configured: no SSO button.
    expect(await page.locator('[data-sso]').count()).toBe(0);
    await b.screenshot('sign-in');

    await page.keyboard.type('OT1.not-a-real-token');
    await page.keyboard.press('Enter');
    await page.locator('.sign-in [role="alert"]:not(:empty)').waitFor();
    expect(await text(page, '.sign-in [role="alert"]')).toMatch(/token/i);

    await page.locator('#token').fill(admin.token);
    await page.keyboard.press('Enter');
    await page.locator('[data-operator="olivia"]').waitFor();
    expect(await text(page, '.who .role')).toBe('admin');
    expect(await page.locator('nav [data-nav]').allTextContents()).toEqual(['Sessions', 'Issue a key', 'Appliances', 'Engineers', 'Audit', 'Help desks', 'Outbox']);
    const cookie = (await b.context.cookies()).find((c) => c.name === 'tether_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The token is nowhere the page can read it back.
    expect(await page.evaluate(() => document.cookie)).not.toContain('tether_session');
    expect(await page.locator('#token').count()).toBe(0);
  });

  it('shows "Sign in with SSO" when the server says SSO is configured', async () => {
    const page = await b.context.newPage();
    try {
      await page.route('**/v1/me', (route) => route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":{"code":"unauthorized","message":"sign in"}}' }));
      await page.route('**/v1/console/sso', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"configured":true}' }));
      await page.goto('/console/');
      const sso = page.locator('a[data-sso="start"]');
      await sso.waitFor();
      expect(await sso.textContent()).toBe('Sign in with SSO');
      expect(await sso.getAttribute('href')).toBe('/console/sso/start');
    } finally {
      await page.close();
    }
  });
});

describe('sessions, live', () => {
  it('issues a key on the "Issue a key" page, shows it once and copies it', async () => {
    const { page } = b;
    await page.goto('/console/#/keys/new');
    await page.getByLabel('Serial').fill(first.serial);
    await page.getByLabel('Ticket').fill('generic:4711');
    await page.getByRole('button', { name: 'Issue key' }).click();
    const area = page.locator('textarea[data-secret="key"]');
    await area.waitFor();
    first.key = await area.inputValue();
    expect(first.key).toMatch(/^KT1\./);
    first.sid = sessionIdOf(first.key);
    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first.key);
    expect(await text(page, '.secret-box .warning')).toMatch(/shown once/i);
    await b.screenshot('issue-key');
    expect((await sys.relay.sessions.get(first.sid))?.state).toBe('ISSUED');
  });

  it('turns a listed session CONNECTED, and shows a newly issued one and its activation, each within a second and without a reload', async () => {
    const { page } = b;
    await page.goto('/console/#/sessions');
    await live(page);
    await rowState(page, first.sid, 'ISSUED');
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    await connect(first.serial, first.key);
    const enabledAt = Date.now();
    expect((await rowState(page, first.sid, 'CONNECTED', 2_000)) - enabledAt).toBeLessThan(1_000);

    // Issued while the page was open: the issue is an event too, so the row appears at once.
    const issuedAt = Date.now();
    const issued = await sys.call(admin.token, 'POST', '/v1/keys', { serial: second.serial, product: 'sda', version: '15.0', ticket: 'generic:4712' });
    expect(issued.status).toBe(201);
    second.key = issued.json.key;
    second.sid = issued.json.session.id;
    expect((await rowState(page, second.sid, 'ISSUED', 2_000)) - issuedAt).toBeLessThan(1_000);
    expect(await page.locator('tbody[data-sessions] tr').first().getAttribute('data-sid')).toBe(second.sid);
    await connect(second.serial, second.key);
    const secondAt = Date.now();
    expect((await rowState(page, second.sid, 'CONNECTED', 2_000)) - secondAt).toBeLessThan(1_000);
    expect(await page.locator('tbody[data-sessions] tr').first().getAttribute('data-sid')).toBe(second.sid);

    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await b.screenshot('sessions');
  });

  it('filters the list by state, serial, ticket and product', async () => {
    const { page } = b;
    const shown = async () => page.locator('tbody[data-sessions] tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-serial')));
    await page.getByLabel('Product').selectOption('sda');
    await page.waitForFunction(() => document.querySelectorAll('tbody[data-sessions] tr').length === 1);
    expect(await shown()).toEqual([second.serial]);
    expect(page.url()).toContain('product=sda');
    await page.getByLabel('Product').selectOption('');
    await page.getByLabel('Serial').fill(first.serial);
    await page.waitForFunction((s) => [...document.querySelectorAll('tbody[data-sessions] tr')].every((r) => r.getAttribute('data-serial') === s), first.serial);
    expect(await shown()).toEqual([first.serial]);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('State').selectOption('CLOSED');
    await page.locator('.empty:not([hidden])').waitFor();
    expect(await shown()).toEqual([]);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('tbody[data-sessions] tr').length >= 2);
  });
});

describe('one session', () => {
  it('shows ticket, product, ports with ssh commands, expiry, timeline and the engineer channel', async () => {
    const { page } = b;
    const engineer = runSsh(sys.relay, alice, ['-W', `${first.serial}:443`]);
    engineers.push(engineer);
    engineer.child.stdin!.write('ping');
    const deadline = Date.now() + 5_000;
    while (engineer.stdout().toString() !== 'ping' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(engineer.stdout().toString()).toBe('ping');

    await page.goto(`/console/#/sessions/${first.sid}`);
    await page.locator('h1[data-state="CONNECTED"]').waitFor();
    expect(await text(page, 'h1')).toContain(first.serial);
    expect(await text(page, '.facts')).toContain('generic 4711');
    expect(await text(page, '.facts')).toContain('SMA');
    await page.locator('tr[data-channel="alice"]').waitFor();
    expect(await page.locator('tr[data-channel="alice"] td').allTextContents()).toEqual(expect.arrayContaining(['alice', '443', 'open']));
    expect(await page.locator('.timeline li').evaluateAll((li) => li.map((l) => l.getAttribute('data-type')))).toEqual(
      expect.arrayContaining(['session.issued', 'session.activated']),
    );
    // alice is a registered engineer; olivia is not, so the commands are alice's.
    await page.locator('tr[data-port="443"] code.command').waitFor();
    expect(await page.locator('tr[data-port] td:first-child').allTextContents()).toEqual(['22', '80', '443', '3306']);
    await page.locator('[data-copy-port="22"]').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`ssh -J tether-relay kace_support@${first.serial}`);
  });

  it('reveals the support password, and the audit names this operator', async () => {
    const { page } = b;
    // A real agent escrows the password it makes on the appliance; the simulated one does not, so
    // custody gets one here, as the relay would store it.
    const session = await sys.relay.sessions.require(first.sid);
    await sys.credentials.put(first.sid, 'Kt-7wq-39x-Lbe', session.expiresAt, Date.now());
    await page.locator('[data-action="reveal"]').click();
    await shown(page, '[data-password]');
    expect(await text(page, '[data-password]')).toBe('Kt-7wq-39x-Lbe');
    expect(await text(page, '[data-user]')).toBe('kace_support');
    await b.screenshot('session-detail');

    const audit = await sys.call(admin.token, 'GET', `/v1/audit?type=credential.revealed&sid=${first.sid}`);
    expect(audit.status).toBe(200);
    expect(audit.json.entries).toHaveLength(1);
    expect(audit.json.entries[0]).toMatchObject({ type: 'credential.revealed', actor: 'olivia', sid: first.sid });

    await page.goto(`/console/#/audit?type=credential.revealed`);
    await page.locator('tr[data-type="credential.revealed"]').waitFor();
    expect(await text(page, 'tr[data-type="credential.revealed"] td.actor')).toBe('olivia');
    await b.screenshot('audit');
  });

  it('grants an engineer the session and withdraws the grant, each audited with this operator', async () => {
    const { page } = b;
    await page.goto(`/console/#/sessions/${first.sid}`);
    await shown(page, '#grants-h');
    await shown(page, '[data-no-grants]');
    await page.locator('#grant-engineer').selectOption('alice');
    await page.locator('[data-action="grant"]').click();
    await shown(page, 'tr[data-grant="alice"]');
    expect(await text(page, 'tr[data-grant="alice"] td:nth-child(2)')).toBe('olivia');
    await b.screenshot('session-grants');
    const granted = await sys.call(admin.token, 'GET', `/v1/audit?type=session.granted&sid=${first.sid}`);
    expect(granted.json.entries[0]).toMatchObject({ actor: 'olivia', fields: { engineer: 'alice' } });
    await page.locator('tr[data-grant="alice"] [data-action="revoke-grant"]').click();
    await shown(page, '[data-no-grants]');
    const withdrawn = await sys.call(admin.token, 'GET', `/v1/audit?type=session.grant_revoked&sid=${first.sid}`);
    expect(withdrawn.json.entries).toHaveLength(1);
  });

  it('sends the CSRF token with every change the console makes, and the API refuses a change without it', async () => {
    const { page } = b;
    await page.goto(`/console/#/sessions/${second.sid}`);
    await page.locator('h1[data-state="CONNECTED"]').waitFor();
    const csrf = await page.evaluate(async () => (await (await fetch('/v1/me')).json()).csrf as string);
    expect(csrf.length).toBeGreaterThan(10);
    const extend = page.waitForRequest((r) => r.url().endsWith(`/v1/sessions/${second.sid}/extend`));
    await page.getByLabel('Expire in').selectOption('4h');
    await page.locator('[data-action="extend"]').click();
    const sent = await extend;
    expect(sent.headers()['x-csrf-token']).toBe(csrf);
    expect((await sent.response())?.status()).toBe(200);

    const refused = await page.evaluate(async (sid) => {
      const out = [];
      for (const headers of [{}, { 'x-csrf-token': 'not-the-token' }] as Record<string, string>[]) {
        const res = await fetch(`/v1/sessions/${sid}/revoke`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
        out.push({ status: res.status, body: await res.json() });
      }
      return out;
    }, second.sid);
    for (const r of refused) expect(r).toMatchObject({ status: 403, body: { error: { code: 'csrf' } } });
    expect((await sys.relay.sessions.get(second.sid))?.state).toBe('CONNECTED');
  });

  it("revokes (by keyboard, after one Escape): the engineer's open ssh -W channel closes and the page shows CLOSED (revoked) within a second", async () => {
    const { page } = b;
    await page.goto(`/console/#/sessions/${first.sid}`);
    await page.locator('h1[data-state="CONNECTED"]').waitFor();
    const engineer = engineers[0]!;
    const exited = new Promise<number>((resolve) => engineer.child.once('exit', () => resolve(Date.now())));

    // By keyboard: Tab to the button (its focus ring visible), Enter opens the dialog, Escape cancels.
    await tabTo(page, '[data-action="revoke"]');
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await sys.relay.sessions.get(first.sid))?.state).toBe('CONNECTED');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-action'))).toBe('revoke');

    await page.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Revoke');
    await b.screenshot('revoke-confirm', { viewport: true });
    const clickedAt = Date.now();
    await page.keyboard.press('Enter');
    await page.locator('h1[data-state="CLOSED"]').waitFor({ timeout: 2_000 });
    const shownAt = Date.now();
    expect(shownAt - clickedAt).toBeLessThan(1_000);
    expect(await text(page, 'h1 .badge')).toBe('CLOSED (revoked)');
    expect((await exited) - clickedAt).toBeLessThan(1_000);
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await sys.relay.sessions.get(first.sid)).toMatchObject({ state: 'CLOSED', reason: 'revoked' });
    const audit = await sys.call(admin.token, 'GET', `/v1/audit?type=session.closed&sid=${first.sid}`);
    expect(audit.json.entries[0]).toMatchObject({ actor: 'olivia' });
  });
});

describe('roles', () => {
  it('shows a viewer no revoke, extend or reveal, and the API answers 403 to its revoke', async () => {
    const vb = await openBrowser(sys.baseUrl);
    browsers.push(vb);
    await signIn(vb, viewer);
    const { page } = vb;
    expect(await page.locator('nav [data-nav]').allTextContents()).toEqual(['Sessions', 'Appliances', 'Engineers', 'Audit', 'Help desks']);
    await page.goto(`/console/#/sessions/${second.sid}`);
    await page.locator('h1[data-state="CONNECTED"]').waitFor();
    await page.locator('.timeline').waitFor();
    for (const action of ['revoke', 'extend', 'reveal']) expect(await page.locator(`[data-action="${action}"]`).count(), action).toBe(0);
    expect(await page.locator('code.command').count()).toBe(0);
    await vb.screenshot('session-detail-viewer');

    const answer = await page.evaluate(async (sid) => {
      const { csrf } = await (await fetch('/v1/me')).json();
      const res = await fetch(`/v1/sessions/${sid}/revoke`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
      return { status: res.status, body: await res.json() };
    }, second.sid);
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('forbidden');
    expect(answer.body.error.message).toMatch(/^viewer may not .*: needs admin$/);
    expect((await sys.relay.sessions.get(second.sid))?.state).toBe('CONNECTED');
    expect(vb.problems).toEqual([]);
  });
});

describe('untrusted text', () => {
  it(`shows a ticket's subject ${XSS} as inert, literal text, live as the ticket's key is issued, with a link to the ticket`, async () => {
    const { page } = b;
    await page.goto('/console/#/sessions');
    await live(page);
    // As the key-issue worker mints it for a Zendesk ticket: the subject is stored on the session.
    const ticketed = await sys.issue({ serial: 'SN-CONSOLE-SUBJECT', product: 'sma', ticket: { system: 'zendesk', id: '4713' }, ticketSubject: XSS });
    const row = `tr[data-sid="${ticketed.session.id}"]`;
    await page.locator(row).waitFor({ timeout: 1_000 });
    expect(await text(page, `${row} td.ticket [data-subject]`)).toBe(XSS);
    const link = page.locator(`${row} td.ticket a`);
    expect(await link.textContent()).toBe('zendesk 4713');
    expect(await link.getAttribute('href')).toBe(`${ZENDESK_URL}/agent/tickets/4713`);
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    const api = await sys.call(viewer.token, 'GET', `/v1/sessions/${ticketed.session.id}`);
    expect(api.json.session.ticket).toEqual({ system: 'zendesk', id: '4713', subject: XSS, url: `${ZENDESK_URL}/agent/tickets/4713` });
    await page.goto(`/console/#/sessions/${ticketed.session.id}`);
    await page.locator('h1[data-state="ISSUED"]').waitFor();
    expect(await text(page, '.facts [data-subject]')).toBe(`— ${XSS}`);
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator('main img').count()).toBe(0);
  });

  it(`renders a ticket id and an audit field ${XSS} as inert, literal text, and a ticket of the generic help desk without a link`, async () => {
    const serial = 'SN-CONSOLE-XSS';
    const issued = await sys.call(admin.token, 'POST', '/v1/keys', { serial, product: 'sma', ticket: { system: 'generic', id: XSS } });
    expect(issued.status).toBe(201);
    expect(issued.json.session.ticket).toEqual({ system: 'generic', id: XSS, url: null });
    const sid = issued.json.session.id as string;
    await sys.relay.audit.append('ticket.received', { serial, sid, subject: XSS, actor: 'generic' }, Date.now());
    const { page } = b;

    await page.goto('/console/#/sessions');
    await page.locator(`tr[data-sid="${sid}"]`).waitFor();
    expect(await text(page, `tr[data-sid="${sid}"] td.ticket`)).toBe(`generic ${XSS}`);
    expect(await page.locator(`tr[data-sid="${sid}"] td.ticket a`).count()).toBe(0);

    await page.goto(`/console/#/sessions/${sid}`);
    await page.locator('h1[data-state="ISSUED"]').waitFor();
    await page.locator('.timeline').waitFor();
    expect(await text(page, '.facts')).toContain(XSS);
    expect(await page.locator('.timeline').textContent()).toContain(`subject=${XSS}`);

    await page.goto(`/console/#/audit?sid=${sid}`);
    await page.locator('tr[data-type="ticket.received"]').waitFor();
    expect(await text(page, 'tr[data-type="ticket.received"] td.details')).toBe(`subject=${XSS}`);

    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator('main img').count()).toBe(0);
  });
});

describe('the other pages', () => {
  it('lists appliances, engineers, help desks and the outbox, and saves their screenshots', async () => {
    const { page } = b;
    await page.goto('/console/#/engineers');
    await page.locator('tr[data-engineer="alice"]').waitFor();
    await b.screenshot('engineers');

    await page.goto('/console/#/appliances');
    await page.getByLabel('Serial').fill('SN-CONSOLE-ENROL');
    await page.getByRole('button', { name: 'Create enrolment token' }).click();
    await page.locator('textarea[data-secret="enrolment-token"]').waitFor();
    expect(await page.locator('textarea[data-secret="enrolment-token"]').inputValue()).toMatch(/^ET1\./);
    await b.screenshot('appliances');

    await page.goto('/console/#/help-desks');
    await page.locator('tr[data-system="generic"]').waitFor();
    await b.screenshot('help-desks');

    await sys.mail.send({
      to: ['it@customer.example'],
      subject: `Tether key for ${second.serial}`,
      text: 'Paste this key into the appliance:\n\nKT1.example-key-text',
      html: `<p>Paste this key ${XSS}</p>`,
    });
    await page.goto('/console/#/outbox');
    await page.locator('tr[data-mail]').waitFor();
    await page.getByRole('button', { name: `Show mail Tether key for ${second.serial}` }).click();
    await page.locator('pre.mail').waitFor();
    expect(await text(page, 'pre.mail')).toContain('Paste this key into the appliance:');
    await b.screenshot('outbox');

    // The list once more, with every state the run produced, for the README.
    await page.goto('/console/#/sessions');
    await page.locator(`tr[data-sid="${first.sid}"] [data-state="CLOSED"]`).waitFor();
    await b.screenshot('sessions-all');
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
  });

  it('ran without script errors or Content-Security-Policy violations', async () => {
    expect(b.problems).toEqual([]);
    expect(await b.page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])).toEqual([]);
  });
});
