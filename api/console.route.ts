// Serves the operator console (api/console/: one HTML shell, small ES modules, CSS) at /console,
// from memory, with a strict Content-Security-Policy. It decides nothing: every rule and every
// piece of data comes from the operator API, which the console calls like any other client.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';

/** No inline script or style, nothing from elsewhere: untrusted text that slipped into markup could not run. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface ConsoleFile {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The console folder: beside this file when running from the sources (vitest), or the sources'
 * api/console/ when running from dist/api/ (the TypeScript build emits only .ts).
 */
export function consoleDir(moduleUrl: string = import.meta.url): string {
  const candidates = [new URL('./console/', moduleUrl), new URL('../../api/console/', moduleUrl)].map((u) => fileURLToPath(u));
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new AppError('internal', `console files not found (looked in ${candidates.join(', ')})`);
  return found;
}

function readConsoleFiles(dir: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      const type = TYPES[extname(entry.name)];
      if (!entry.isFile() || !type) continue;
      const body = readFileSync(path);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      files.set(relative(dir, path).split(sep).join('/'), { body, type, etag });
    }
  };
  walk(dir);
  return files;
}

export async function consoleRoute(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  // Read once at start: the set of routes is fixed, so no request path ever reaches the file system.
  const files = readConsoleFiles(opts.dir ?? consoleDir());
  const serve = (file: ConsoleFile) => async (request: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cross-origin-opener-policy', 'same-origin')
      // Small files: revalidate every time so a new build is picked up at once.
      .header('cache-control', 'no-cache')
      .header('etag', file.etag)
      .type(file.type);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  };

  const index = files.get('index.html');
  if (!index) throw new AppError('internal', 'console index.html is missing');
  // UI assets, left out of the OpenAPI spec on purpose.
  const hidden = { schema: { hide: true } };
  app.get('/console', hidden, async (_request, reply) => reply.redirect('/console/', 308));
  app.get('/console/', hidden, serve(index));
  for (const [path, file] of files) {
    if (path !== 'index.html') app.get(`/console/${path}`, hidden, serve(file));
  }
}
