// Serving the console's files: found from the sources and from dist/, served from memory with a
// strict Content-Security-Policy and revalidation, nothing outside the folder reachable.
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleDir, consoleRoute } from '../../api/console.route.js';
import { registerErrorHandling } from '../../api/error-handler.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SOURCE_DIR = resolve(ROOT, 'api', 'console');
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  registerErrorHandling(app);
  await app.register(consoleRoute);
});

afterAll(async () => {
  await app?.close();
});

describe('the console folder', () => {
  it('is found beside the route in the sources, and from dist/api/ after a build (which emits only .ts)', () => {
    expect(consoleDir(pathToFileURL(resolve(ROOT, 'api', 'console.route.ts')).href)).toBe(`${SOURCE_DIR}/`);
    expect(consoleDir(pathToFileURL(resolve(ROOT, 'dist', 'api', 'console.route.js')).href)).toBe(`${SOURCE_DIR}/`);
  });

  it('fails loudly when it cannot be found', () => {
    expect(() => consoleDir(pathToFileURL('/nowhere/at/all/console.route.js').href)).toThrow(/console files not found/);
  });
});

describe('GET /console', () => {
  it('redirects /console to /console/ and serves the shell there with a strict policy', async () => {
    const redirect = await app.inject('/console');
    expect(redirect.statusCode).toBe(308);
    expect(redirect.headers.location).toBe('/console/');
    const shell = await app.inject('/console/');
    expect(shell.statusCode).toBe(200);
    expect(shell.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(shell.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(shell.headers['x-content-type-options']).toBe('nosniff');
    expect(shell.headers['cache-control']).toBe('no-cache');
    expect(shell.body).toContain('<script type="module" src="/console/app.js"></script>');
  });

  it('serves modules and styles with their types, and answers 304 to a matching ETag', async () => {
    const js = await app.inject('/console/pages/sessions.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const again = await app.inject({ url: '/console/pages/sessions.js', headers: { 'if-none-match': String(js.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect((await app.inject('/console/console.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('has no inline script, inline handler or innerHTML anywhere in the console', async () => {
    const shell = (await app.inject('/console/')).body;
    expect(shell).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(shell).not.toMatch(/\son[a-z]+=/i);
    const files = readdirSync(SOURCE_DIR, { recursive: true }).map(String).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      expect((await app.inject(`/console/${file}`)).body, file).not.toMatch(/\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML\(|document\.write\(/);
    }
  });

  it('answers 404 for anything that is not one of its files', async () => {
    for (const url of ['/console/nope.js', '/console/../package.json', '/console/%2e%2e/package.json', '/console/pages/']) {
      expect((await app.inject(url)).statusCode, url).toBe(404);
    }
  });
});
