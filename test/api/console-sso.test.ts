// The SSO routes without a browser: what the console is told, the refusals that need no provider
// (not configured, provider unreachable, unknown state), and the start's rate limit.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { startApiHarness, type ApiHarness } from './helpers/api-harness.js';

let plain: ApiHarness;
let sso: ApiHarness;

/** A loopback port nothing listens on: the provider is down. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

beforeAll(async () => {
  plain = await startApiHarness(inject('redisUrl'));
  const config = loadServerConfig({
    TETHER_LOG_LEVEL: 'silent',
    TETHER_OIDC_ISSUER: `http://127.0.0.1:${await deadPort()}`,
    TETHER_OIDC_CLIENT_ID: 'tether-console',
    TETHER_OIDC_CLIENT_SECRET: 'secret',
    TETHER_OIDC_ROLES: 'tether-admins=admin',
  });
  sso = await startApiHarness(inject('redisUrl'), { config });
});

afterAll(async () => {
  await plain?.close();
  await sso?.close();
});

describe('console SSO routes', () => {
  it('tell the console whether SSO is configured, with no credential', async () => {
    expect(await plain.call('GET', '/v1/console/sso')).toMatchObject({ status: 200, json: { configured: false, startUrl: '/console/sso/start' } });
    expect(await sso.call('GET', '/v1/console/sso')).toMatchObject({ status: 200, json: { configured: true, startUrl: '/console/sso/start' } });
  });

  it('answer a page, not a redirect, when SSO is not configured', async () => {
    const res = await plain.app.inject({ method: 'GET', url: '/console/sso/start' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('Single sign-on is not configured');
  });

  it('say so when the provider cannot be reached, and refuse a callback for a sign-in that was never started', async () => {
    const start = await sso.app.inject({ method: 'GET', url: '/console/sso/start', remoteAddress: '10.0.0.1' });
    expect(start.statusCode).toBe(503);
    expect(start.body).toContain('data-sso-refused="unavailable"');
    for (const url of ['/console/sso/callback?state=made-up&code=x', '/console/sso/callback']) {
      const res = await sso.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('data-sso-refused="not_started"');
      expect(String(res.headers['set-cookie'] ?? '')).not.toContain('tether_session=');
    }
  });

  it('rate-limit the start per client address: the 11th in a minute is refused with 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await sso.app.inject({ method: 'GET', url: '/console/sso/start', remoteAddress: '10.0.0.2' })).statusCode);
    expect(statuses.slice(0, 10).every((s) => s === 503)).toBe(true);
    expect(statuses[10]).toBe(429);
    // Another address is not affected.
    expect((await sso.app.inject({ method: 'GET', url: '/console/sso/start', remoteAddress: '10.0.0.3' })).statusCode).toBe(503);
  });
});
