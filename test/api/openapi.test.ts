// The OpenAPI 3.1 document and Swagger UI, over the api built as serve builds it (metrics included):
// every route registered on the server (recorded by an onRoute hook) is in /openapi.json unless it
// is a UI asset hidden on purpose, every operator route states its role and security, and /docs serves.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openApiPath, registeredRoutes } from '../../api/openapi.js';
import { createMetrics } from '../../shared/metrics.js';
import { startApiHarness, type ApiHarness } from './helpers/api-harness.js';

/** Left out of the spec on purpose: UIs and their assets, and the spec itself. */
const HIDDEN_PREFIXES = ['/docs', '/openapi.json', '/admin/queues', '/console'];
/** /v1 routes that take no operator credential (their own signatures, or sign-in itself). */
const NOT_OPERATOR = [/^\/v1\/webhooks\//, /^\/v1\/appliances\/enroll$/, /^\/v1\/appliances\/\{serial\}\//];

let h: ApiHarness;
let spec: any;

beforeAll(async () => {
  h = await startApiHarness(inject('redisUrl'), { metrics: createMetrics() });
  const res = await h.call('GET', '/openapi.json');
  expect(res.status).toBe(200);
  spec = res.json;
});

afterAll(async () => {
  await h?.close();
});

const methodsOf = () => registeredRoutes(h.app).filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');

describe('OpenAPI', () => {
  it('is OpenAPI 3.1 with the bearer and cookie security schemes', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['bearerToken', 'consoleCookie']);
  });

  it('has every registered route that is not hidden on purpose, and hides only UI assets', () => {
    const routes = methodsOf();
    expect(routes.length).toBeGreaterThan(30);
    const missing = routes.filter((r) => !r.hidden && !spec.paths[openApiPath(r.url)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    const hiddenElsewhere = routes
      .filter((r) => r.hidden && !HIDDEN_PREFIXES.some((p) => r.url === p || r.url.startsWith(`${p}/`)))
      .map((r) => `${r.method} ${r.url}`);
    expect(hiddenElsewhere).toEqual([]);
    // The contract's routes, by name (a route lost from the server fails here too).
    for (const [method, path] of [
      ['get', '/v1/sessions'],
      ['get', '/v1/sessions/{id}'],
      ['post', '/v1/sessions/{id}/revoke'],
      ['post', '/v1/sessions/{id}/extend'],
      ['post', '/v1/sessions/{id}/credentials'],
      ['get', '/v1/sessions/{id}/ssh-config'],
      ['post', '/v1/keys'],
      ['get', '/v1/audit'],
      ['get', '/v1/engineers'],
      ['post', '/v1/engineers'],
      ['delete', '/v1/engineers/{name}'],
      ['get', '/v1/operators'],
      ['post', '/v1/operators'],
      ['delete', '/v1/operators/{name}'],
      ['get', '/v1/appliances'],
      ['post', '/v1/appliances/tokens'],
      ['get', '/v1/help-desks'],
      ['get', '/v1/outbox'],
      ['get', '/v1/outbox/{file}'],
      ['post', '/v1/console/session'],
      ['delete', '/v1/console/session'],
      ['get', '/v1/me'],
      ['get', '/v1/console/sso'],
      ['post', '/v1/webhooks/generic'],
      ['get', '/healthz'],
      ['get', '/metrics'],
    ] as const) {
      expect(spec.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });

  it('documents request and answer schemas from the zod schemas the routes use', () => {
    const list = spec.paths['/v1/sessions'].get;
    expect(list.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'limit', 'product', 'serial', 'state', 'ticket']);
    const state = list.parameters.find((p: { name: string }) => p.name === 'state');
    expect(state.schema.enum).toEqual(['ISSUED', 'CONNECTED', 'LOST', 'CLOSED']);
    const keyBody = spec.paths['/v1/keys'].post.requestBody.content['application/json'].schema;
    expect(keyBody.required).toEqual(expect.arrayContaining(['serial', 'product']));
    expect(Object.keys(spec.paths['/v1/keys'].post.responses)).toEqual(expect.arrayContaining(['201', '401', '403']));
    // Raw-body routes are described from the schemas they parse with.
    const webhook = spec.paths['/v1/webhooks/generic'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(webhook.properties)).toEqual(expect.arrayContaining(['id', 'type', 'ticket']));
  });

  it('gives every operator route its role and both security schemes', () => {
    const unguarded: string[] = [];
    for (const [path, ops] of Object.entries<Record<string, any>>(spec.paths)) {
      if (!path.startsWith('/v1/') || NOT_OPERATOR.some((re) => re.test(path))) continue;
      for (const [method, op] of Object.entries(ops)) {
        // Sign-in itself, and whether SSO is offered: asked before anyone is signed in.
        if ((path === '/v1/console/session' && method === 'post') || path === '/v1/console/sso') continue;
        if (!/Role: (viewer|engineer|admin) or higher\./.test(op.description ?? '') || op.security?.length !== 2) unguarded.push(`${method} ${path}`);
      }
    }
    expect(unguarded).toEqual([]);
  });

  it('serves Swagger UI at /docs with a CSP that still forbids inline scripts', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });
});
