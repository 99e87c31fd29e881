// Console sign-in over real Redis: the session cookie (HttpOnly, SameSite=Strict), the CSRF token
// every cookie-authenticated change must carry (refused without, accepted with), sign-out, the
// sign-in rate limit per client address, and the security headers on the api.
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from './helpers/api-harness.js';
import { useApiHarness } from './helpers/api-fixture.js';

const h = useApiHarness();
let adminToken: string, viewerToken: string;

beforeAll(async () => {
  adminToken = await h.addOperator('ada', 'admin');
  viewerToken = await h.addOperator('vera', 'viewer');
});

describe('console sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and answers with the operator and a CSRF token', async () => {
    const res = await h.call('POST', '/v1/console/session', { ip: '10.0.0.1' }, { token: adminToken });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ operator: { name: 'ada', role: 'admin' }, csrf: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/) });
    const cookie = String([res.headers['set-cookie']].flat()[0]);
    expect(cookie).toMatch(/^tether_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    // Only a digest of the cookie is in Redis, under the contract's key.
    const id = /^tether_session=([^;]+)/.exec(cookie)![1]!;
    const keys = await h.redis.keys(`${h.prefix}console:session:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((k) => k.includes(id))).toBe(false);
    const ttl = await h.redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(11.9 * 3_600_000);
  });

  it('answers GET /v1/me through the cookie with the same CSRF token', async () => {
    const { cookie, csrf } = await h.signIn(viewerToken, '10.0.0.2');
    expect((await h.call('GET', '/v1/me', { cookie })).json).toEqual({ operator: { name: 'vera', role: 'viewer' }, csrf });
  });

  it('refuses a cookie-authenticated change without the CSRF token (nothing changes) and accepts it with', async () => {
    const { cookie, csrf } = await h.signIn(adminToken, '10.0.0.3');
    const { session } = await h.issue('K1000-CSRF01');
    const missing = await h.call('POST', `/v1/sessions/${session.id}/revoke`, { cookie }, {});
    expect(missing).toEqual({ status: 403, json: { error: { code: 'csrf', message: 'missing or wrong CSRF token' } }, headers: expect.anything() });
    const wrong = await h.call('POST', `/v1/sessions/${session.id}/revoke`, { cookie, csrf: `${csrf}x` }, {});
    expect(wrong.json.error.code).toBe('csrf');
    expect((await h.sessions.require(session.id)).state).toBe('ISSUED');

    const ok = await h.call('POST', `/v1/sessions/${session.id}/revoke`, { cookie, csrf }, {});
    expect(ok).toMatchObject({ status: 200, json: { session: { state: 'CLOSED', reason: 'revoked' } } });
    const closed = (await h.auditOf('session.closed')).find((e) => e.fields.sid === session.id);
    expect(closed?.fields.actor).toBe('ada');
  });

  it('needs no CSRF token for reads through the cookie, nor for changes with a bearer token', async () => {
    const { cookie } = await h.signIn(adminToken, '10.0.0.4');
    expect((await h.call('GET', '/v1/sessions', { cookie })).status).toBe(200);
    const { session } = await h.issue('K1000-CSRF02');
    expect((await h.call('POST', `/v1/sessions/${session.id}/revoke`, { token: adminToken }, {})).status).toBe(200);
  });

  it('refuses a bad token with 401 and sets no cookie; the break-glass admin token signs in as admin', async () => {
    const bad = await h.call('POST', '/v1/console/session', { ip: '10.0.0.5' }, { token: 'OT1.nope' });
    expect(bad).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    expect(bad.headers['set-cookie']).toBeUndefined();
    const res = await h.call('POST', '/v1/console/session', { ip: '10.0.0.5' }, { token: ADMIN_TOKEN });
    expect(res.json.operator).toEqual({ name: 'admin', role: 'admin' });
  });

  it('signs out: the session is deleted and the cookie cleared (with the CSRF token; refused without)', async () => {
    const { cookie, csrf } = await h.signIn(viewerToken, '10.0.0.6');
    expect((await h.call('DELETE', '/v1/console/session', { cookie })).json.error.code).toBe('csrf');
    const out = await h.call('DELETE', '/v1/console/session', { cookie, csrf });
    expect(out).toMatchObject({ status: 200, json: { signedOut: true } });
    expect(String([out.headers['set-cookie']].flat()[0])).toMatch(/^tether_session=;/);
    expect((await h.call('GET', '/v1/me', { cookie })).status).toBe(401);
  });

  it('ends the console sessions of a removed operator at once', async () => {
    const token = await h.addOperator('temp', 'engineer');
    const { cookie } = await h.signIn(token, '10.0.0.7');
    expect((await h.call('GET', '/v1/me', { cookie })).status).toBe(200);
    await h.operators.remove('temp', 'test', Date.now());
    expect((await h.call('GET', '/v1/me', { cookie })).json).toEqual({ error: { code: 'unauthorized', message: 'console session expired or ended: sign in again' } });
  });

  it('rate-limits sign-in to 10 a minute per client address, good tokens included; other addresses are not affected', async () => {
    const ip = '10.9.9.9';
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await h.call('POST', '/v1/console/session', { ip }, { token: `OT1.wrong-${i}` })).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const limited = await h.call('POST', '/v1/console/session', { ip }, { token: adminToken });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(limited.json.error.message).toMatch(/^too many sign-in attempts: retry in /);
    expect(limited.headers['set-cookie']).toBeUndefined();
    expect((await h.call('POST', '/v1/console/session', { ip: '10.9.9.10' }, { token: adminToken })).status).toBe(200);
  });
});

describe('security headers', () => {
  it('sends a CSP that allows same-origin scripts and styles and nothing inline, plus the usual helmet headers', async () => {
    const res = await h.call('GET', '/v1/me', { token: viewerToken });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });
});
