// The help-desk clients' HTTP call: what was sent arrives as sent, any status comes back with its
// headers and body, a server that never answers is given up on, and calls reuse their connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpCall } from '../../ticketing/http-call.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ url: string; connections: Set<Socket> }> {
  const connections = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  server.on('connection', (s) => connections.add(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
}

describe('httpCall', () => {
  it('sends method, path, headers and body as given, and returns any status with headers and body', async () => {
    const seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const { url } = await serve((req, body, res) => {
      Object.assign(seen, { method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(429, { 'Retry-After': '7', 'Content-Type': 'application/json' }).end('{"error":"slow down"}');
    });
    const body = JSON.stringify({ comment: 'Tether connected ✓' });
    const answer = await httpCall({ method: 'POST', url: `${url}/api/v2/tickets/7?x=1`, headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' }, body, timeoutMs: 2_000 });
    expect(seen).toMatchObject({ method: 'POST', url: '/api/v2/tickets/7?x=1', body });
    expect(seen.headers).toMatchObject({ authorization: 'Bearer t', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(JSON.parse(answer.text)).toEqual({ error: 'slow down' });
  });

  it('gives up on a server that never answers, and reuses one connection for calls in a row', async () => {
    const silent = await serve(() => undefined);
    await expect(httpCall({ method: 'GET', url: `${silent.url}/x`, headers: {}, timeoutMs: 200 })).rejects.toThrow(/no answer within 200 ms/);

    const ok = await serve((_req, _body, res) => res.end('fine'));
    for (let i = 0; i < 3; i++) expect((await httpCall({ method: 'GET', url: `${ok.url}/y`, headers: {}, timeoutMs: 2_000 })).text).toBe('fine');
    expect(ok.connections.size).toBe(1);
  });

  it('refuses what is not an http(s) URL, sending nothing', async () => {
    await expect(httpCall({ method: 'GET', url: 'file:///etc/passwd', headers: {}, timeoutMs: 1_000 })).rejects.toThrow(/unsupported URL scheme file:/);
    await expect(httpCall({ method: 'GET', url: 'not a url', headers: {}, timeoutMs: 1_000 })).rejects.toThrow(/invalid URL/);
  });
});
