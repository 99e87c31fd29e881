// Console single sign-on against a real OpenID provider (oidc-provider on loopback, its own login
// and consent pages) driven in Debian's Chromium: the groups claim maps to the role at each sign-in,
// a user whose groups map to nothing is refused with a page that says so, and a tampered or
// replayed callback signs nobody in. Screenshots go to test-artifacts/console/sso-*.png.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SESSION_COOKIE } from '../../api/operator-auth.js';
import { openBrowser, type Browser } from './browser.js';
import { text } from './console-page.js';
import { startConsoleSystem, type ConsoleSystem } from './console-harness.js';
import { startTestProvider, type TestProvider } from './oidc-provider.js';

let provider: TestProvider;
let sys: ConsoleSystem;
const browsers: Browser[] = [];

beforeAll(async () => {
  provider = await startTestProvider({
    ada: { name: 'Ada Lovelace', email: 'ada@vendor.example', groups: ['staff', 'tether-admins'] },
    eve: { name: 'Eve Moneypenny', email: 'eve@vendor.example', groups: ['marketing'] },
    ed: { name: 'Ed Engineer', email: 'ed@vendor.example', groups: ['tether-engineers'] },
  });
  sys = await startConsoleSystem(inject('redisUrl'), {
    env: {
      TETHER_OIDC_ISSUER: provider.issuer,
      TETHER_OIDC_CLIENT_ID: provider.clientId,
      TETHER_OIDC_CLIENT_SECRET: provider.clientSecret,
      TETHER_OIDC_SCOPES: 'openid profile email groups',
      TETHER_OIDC_ROLES: 'tether-admins=admin,tether-engineers=engineer',
    },
  });
  // No TETHER_PUBLIC_URL: the redirect URL is built from the request, and registered at the provider as such.
  provider.serve(`${sys.baseUrl}/console/sso/callback`);
}, 60_000);

afterAll(async () => {
  for (const b of browsers) await b.close().catch(() => undefined);
  await sys?.close();
  await provider?.close();
});

async function browser(): Promise<Browser> {
  const b = await openBrowser(sys.baseUrl);
  browsers.push(b);
  return b;
}

/** From the console's sign-in page through the provider's login (and consent, the first time). */
async function ssoSignIn(b: Browser, login: string, shots?: string): Promise<void> {
  const { page } = b;
  await page.goto('/console/');
  await page.locator('a[data-sso="start"]').click();
  await page.waitForURL((u) => u.origin === provider.issuer && u.pathname.startsWith('/interaction/'));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  if (shots) await b.screenshot(`${shots}-provider-login`);
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function consoleCookie(b: Browser) {
  return (await b.context.cookies(sys.baseUrl)).find((c) => c.name === SESSION_COOKIE);
}

async function auditOf(type: string, actor: string) {
  const res = await sys.call(sys.adminToken, 'GET', `/v1/audit?type=${type}&actor=${encodeURIComponent(actor)}`);
  expect(res.status).toBe(200);
  return res.json.entries as { actor: string; fields: Record<string, string> }[];
}

describe('single sign-on', () => {
  it('says it is configured, so the sign-in page offers "Sign in with SSO"', async () => {
    const res = await fetch(`${sys.baseUrl}/v1/console/sso`);
    expect(await res.json()).toEqual({ configured: true, startUrl: '/console/sso/start' });
    const b = await browser();
    await b.page.goto('/console/');
    await b.page.locator('a[data-sso="start"]').waitFor();
    expect(await b.page.locator('a[data-sso="start"]').textContent()).toBe('Sign in with SSO');
    await b.screenshot('sso-sign-in');
  });

  it("signs in through the provider's login form and lands on /console signed in, with the role its groups claim maps to", async () => {
    const b = await browser();
    await ssoSignIn(b, 'ada', 'sso');
    await b.page.locator('[data-operator="sso:ada"]').waitFor();
    expect(new URL(b.page.url()).origin).toBe(sys.baseUrl);
    expect(new URL(b.page.url()).pathname).toBe('/console/');
    expect(await text(b.page, '.who .role')).toBe('admin');
    expect(await b.page.locator('nav [data-nav]').allTextContents()).toContain('Issue a key');
    expect(await consoleCookie(b)).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The browser-binding cookie is spent.
    expect((await b.context.cookies(sys.baseUrl)).map((c) => c.name)).not.toContain('tether_sso');
    await b.page.locator('.live[data-live="live"]').waitFor();
    await b.screenshot('sso-signed-in');

    // The console session acts as the operator sso:ada, role admin: a change with its CSRF token works.
    const answer = await b.page.evaluate(async () => {
      const me = await (await fetch('/v1/me')).json();
      const res = await fetch('/v1/appliances/tokens', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf }, body: '{"serial":"SN-SSO-1"}' });
      return { me, status: res.status };
    });
    expect(answer.me.operator).toEqual({ name: 'sso:ada', role: 'admin' });
    expect(answer.status).toBe(201);
    const [signedIn] = await auditOf('console.signed_in', 'sso:ada');
    expect(signedIn).toMatchObject({ actor: 'sso:ada', fields: { via: 'sso', role: 'admin' } });
    expect(b.problems).toEqual([]);
  });

  it('reads the role from the claim at every sign-in: once the group changes, the same user signs in as engineer', async () => {
    provider.accounts.get('ada')!.groups = ['staff', 'tether-engineers'];
    try {
      const b = await browser();
      await ssoSignIn(b, 'ada');
      await b.page.locator('[data-operator="sso:ada"]').waitFor();
      expect(await text(b.page, '.who .role')).toBe('engineer');
      expect(await b.page.locator('nav [data-nav]').allTextContents()).not.toContain('Issue a key');
      const refused = await b.page.evaluate(async () => {
        const me = await (await fetch('/v1/me')).json();
        const res = await fetch('/v1/appliances/tokens', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf }, body: '{"serial":"SN-SSO-2"}' });
        return { status: res.status, body: await res.json() };
      });
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringMatching(/^engineer may not .*: needs admin$/) } } });
    } finally {
      provider.accounts.get('ada')!.groups = ['staff', 'tether-admins'];
    }
  });

  it('refuses a user whose groups map to no role, with a page that says why, and creates no session', async () => {
    const b = await browser();
    const callback = b.page.waitForResponse((r) => r.url().startsWith(`${sys.baseUrl}/console/sso/callback`));
    await ssoSignIn(b, 'eve');
    expect((await callback).status()).toBe(403);
    await b.page.locator('[data-sso-refused="no_role"]').waitFor();
    expect(await text(b.page, 'h1')).toBe('Your account may not use the Tether console');
    expect(await text(b.page, '[data-sso-refused] p')).toBe('You signed in as sso:eve, but your "groups" claim (marketing) maps to no Tether role.');
    expect(await consoleCookie(b)).toBeUndefined();
    await b.screenshot('sso-refused');
    const me = await b.page.evaluate(async () => (await fetch('/v1/me')).status);
    expect(me).toBe(401);
    expect(await auditOf('console.signed_in', 'sso:eve')).toEqual([]);
    expect(await auditOf('console.sign_in_refused', 'sso:eve')).toEqual([expect.objectContaining({ fields: expect.objectContaining({ via: 'sso', reason: 'no_role' }) })]);
    // "Back to sign-in" leads to the console's sign-in page.
    await b.page.getByRole('link', { name: 'Back to sign-in' }).click();
    await b.page.locator('#token').waitFor();
    expect(b.problems).toEqual([]);
  });

  it('refuses a tampered state and a callback without the browser binding; the genuine callback still signs in once', async () => {
    const b = await browser();
    const genuine = await holdCallback(b.page, () => ssoSignIn(b, 'ed'));
    const tampered = new URL(genuine);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')!.slice(0, -4)}AAAA`);

    const refused = await b.page.goto(tampered.href);
    expect(refused?.status()).toBe(400);
    await b.page.locator('[data-sso-refused="not_started"]').waitFor();
    expect(await consoleCookie(b)).toBeUndefined();
    await b.screenshot('sso-tampered-state');

    // Another client (no tether_sso cookie) with the genuine URL: refused, and the sign-in is spent.
    // So that the genuine browser can still finish, this is tried on a second sign-in of the same user.
    const b2 = await browser();
    const stolen = await holdCallback(b2.page, () => ssoSignIn(b2, 'ed'));
    const elsewhere = await fetch(stolen, { redirect: 'manual' });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain('data-sso-refused="other_browser"');
    expect(elsewhere.headers.get('set-cookie') ?? '').not.toContain(`${SESSION_COOKIE}=`);
    const replay = await b2.page.goto(stolen);
    expect(replay?.status()).toBe(400);
    await b2.page.locator('[data-sso-refused="not_started"]').waitFor();

    // The tampered attempt did not spend the genuine sign-in; it works exactly once.
    await b.page.goto(genuine);
    await b.page.locator('[data-operator="sso:ed"]').waitFor();
    expect(await text(b.page, '.who .role')).toBe('engineer');
    const again = await fetch(genuine, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(await auditOf('console.signed_in', 'sso:ed')).toHaveLength(1);
  });
});

/**
 * Runs `signIn` up to the provider's redirect to our callback and returns that URL without the
 * browser following it. Playwright does not route redirected requests, so the consent form's POST
 * (the first request of the chain) is taken over: sent, then followed on the provider with the
 * browser's own cookies, stopping at the callback.
 */
async function holdCallback(page: Page, signIn: () => Promise<void>): Promise<string> {
  let seen: (url: string) => void;
  let failed: (err: unknown) => void;
  const url = new Promise<string>((ok, fail) => ((seen = ok), (failed = fail)));
  const pattern = `${provider.issuer}/interaction/**`;
  await page.route(pattern, async (route) => {
    if (route.request().method() !== 'POST' || !/prompt=consent/.test(route.request().postData() ?? '')) return route.continue();
    try {
      let res = await route.fetch({ maxRedirects: 0 });
      let next = res.headers().location;
      for (let hops = 0; next && !next.startsWith(`${sys.baseUrl}/console/sso/callback`) && hops < 5; hops++) {
        res = await page.request.get(new URL(next, provider.issuer).href, { maxRedirects: 0 });
        next = res.headers().location;
      }
      if (!next?.startsWith(`${sys.baseUrl}/console/sso/callback`)) throw new Error(`the provider did not redirect to the callback (${res.status()} ${next})`);
      seen(next);
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'held by the test' });
    } catch (err) {
      failed(err);
      await route.abort();
    }
  });
  await signIn();
  const held = await url;
  await page.unroute(pattern);
  return held;
}
