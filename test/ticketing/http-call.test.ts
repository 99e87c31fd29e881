// The help-desk clients' HTTP call: what was sent arrives as sent, any status comes back with its
// headers and body, a server that never answers is given up on, and calls reuse their connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_REDIRECTS, USER_AGENT, httpCall } from '../../ticketing/http-call.js';

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

  it('follows redirects as fetch did: 307 repeats the POST, credentials stay on their origin, 303 turns into a GET, and it stops after a few', async () => {
    const seen: { host: string; method: string; url: string; auth?: string; agent?: string; body: string }[] = [];
    const record = (req: IncomingMessage, body: string) => seen.push({ host: req.headers.host ?? '', method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, agent: req.headers['user-agent'], body });
    const other = await serve((req, body, res) => (record(req, body), res.writeHead(201).end('{"id":1}')));
    const desk = await serve((req, body, res) => {
      record(req, body);
      if (req.url === '/renamed/comments') return res.writeHead(307, { Location: '/repo/comments' }).end();
      if (req.url === '/repo/comments') return res.writeHead(308, { Location: `${other.url}/moved/comments` }).end();
      if (req.url === '/see-other') return res.writeHead(303, { Location: '/result' }).end();
      if (req.url?.startsWith('/loop')) return res.writeHead(302, { Location: `/loop${seen.length}` }).end();
      res.writeHead(200).end('done');
    });
    const body = '{"body":"Tether connected"}';
    const moved = await httpCall({ method: 'POST', url: `${desk.url}/renamed/comments`, headers: { Authorization: 'token secret', 'Content-Type': 'application/json' }, body, timeoutMs: 2_000 });
    expect(moved.status).toBe(201);
    expect(seen.map((r) => [r.method, r.url, r.auth ?? null, r.body])).toEqual([
      ['POST', '/renamed/comments', 'token secret', body],
      ['POST', '/repo/comments', 'token secret', body],
      ['POST', '/moved/comments', null, body], // another origin: the credentials stay behind
    ]);
    expect(new Set(seen.map((r) => r.agent))).toEqual(new Set([USER_AGENT]));

    seen.length = 0;
    expect((await httpCall({ method: 'POST', url: `${desk.url}/see-other`, headers: {}, body, timeoutMs: 2_000 })).text).toBe('done');
    expect(seen.map((r) => [r.method, r.url, r.body])).toEqual([['POST', '/see-other', body], ['GET', '/result', '']]);

    seen.length = 0;
    const loop = await httpCall({ method: 'GET', url: `${desk.url}/loop`, headers: { 'User-Agent': 'mine' }, timeoutMs: 2_000 });
    expect(loop.status).toBe(302);
    expect(seen).toHaveLength(MAX_REDIRECTS + 1);
    expect(seen[0]!.agent).toBe('mine');
  });
});
