// The vendors' REST client against a real local server: Retry-After (seconds or date) and GitHub's
// rate-limit reset are waited out in process when short, handed to the queue as retryable errors
// carrying the delay when long; other answers map to retryable or final errors.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { createVendorHttp, HelpDeskBusyError } from '../../ticketing/vendor-http.js';

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}
let replies: Reply[] = [];
let hits = 0;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      const r = replies.shift() ?? { status: 200 };
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(r.body ?? (r.status < 300 ? '{"ok":true}' : '{"error":"no"}'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

function client(now = Date.now()) {
  const waits: number[] = [];
  const http = createVendorHttp({ system: 'acme', baseUrl: url, headers: { Authorization: 'Bearer t' }, now: () => now, sleep: async (ms) => void waits.push(ms), maxWaitMs: 30_000 });
  return { http, waits };
}

async function run(rs: Reply[], now?: number) {
  replies = [...rs];
  hits = 0;
  const { http, waits } = client(now);
  const result = await http.request('POST', '/x', { a: 1 }).then(
    (r) => ({ ok: true as const, r }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  return { result, waits, hits };
}

describe('vendor REST client', () => {
  it('waits out a 429 with Retry-After in seconds, then succeeds', async () => {
    const { result, waits, hits: n } = await run([{ status: 429, headers: { 'Retry-After': '2' } }]);
    expect(result).toEqual({ ok: true, r: { status: 200, json: { ok: true } } });
    expect(waits).toEqual([2_000]);
    expect(n).toBe(2);
  });

  it('waits out a 503 with Retry-After as an HTTP date', async () => {
    const now = Date.parse('2026-01-09T12:00:00Z');
    const { result, waits } = await run([{ status: 503, headers: { 'Retry-After': 'Fri, 09 Jan 2026 12:00:05 GMT' } }], now);
    expect(result.ok).toBe(true);
    expect(waits).toEqual([5_000]);
  });

  it('waits out GitHub\'s 403 with x-ratelimit-remaining 0 until x-ratelimit-reset', async () => {
    const now = 1_767_960_000_000;
    const { result, waits } = await run([{ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 3) } }], now);
    expect(result.ok).toBe(true);
    expect(waits).toEqual([3_000]);
  });

  it('hands a long Retry-After to the queue as a retryable error carrying the delay', async () => {
    const { result, waits, hits: n } = await run([{ status: 429, headers: { 'Retry-After': '120' } }]);
    expect(result.ok).toBe(false);
    const e = (result as { e: unknown }).e;
    expect(e).toBeInstanceOf(HelpDeskBusyError);
    expect(e).toMatchObject({ retryable: true, retryAfterMs: 120_000, message: 'acme answered 429 to POST /x (retry after 120 s)' });
    expect(waits).toEqual([]);
    expect(n).toBe(1);
  });

  it('gives up in process after three attempts, still retryable', async () => {
    const busy = { status: 429, headers: { 'Retry-After': '1' } };
    const { result, waits } = await run([busy, busy, busy, busy]);
    expect((result as { e: unknown }).e).toMatchObject({ retryable: true, retryAfterMs: 1_000 });
    expect(waits).toEqual([1_000, 1_000]);
  });

  it('takes GitHub\'s bare 403 that names a secondary rate limit as busy for at least a minute, not as bad credentials', async () => {
    const body = '{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest"}';
    const { result, waits } = await run([{ status: 403, body }]);
    const e = (result as { e: unknown }).e;
    expect(e).toBeInstanceOf(HelpDeskBusyError);
    expect(e).toMatchObject({ code: 'help_desk_busy', retryable: true, retryAfterMs: 60_000 });
    expect(waits).toEqual([]); // longer than the in-process limit: the queue waits it out
  });

  it('maps 5xx to retryable, 401/403 to config_invalid, other 4xx to final errors', async () => {
    expect((await run([{ status: 502 }])).result).toMatchObject({ ok: false, e: { code: 'internal', retryable: true } });
    expect((await run([{ status: 401 }])).result).toMatchObject({ ok: false, e: { code: 'config_invalid', retryable: false } });
    expect((await run([{ status: 403 }])).result).toMatchObject({ ok: false, e: { code: 'config_invalid', retryable: false } });
    for (const status of [400, 404, 422]) expect((await run([{ status }])).result).toMatchObject({ ok: false, e: { code: 'internal', retryable: false } });
  });

  it('reports an unreachable help desk as retryable, without credentials in the message', async () => {
    const http = createVendorHttp({ system: 'acme', baseUrl: 'http://127.0.0.1:1', headers: { Authorization: 'Bearer secret-token' }, timeoutMs: 2_000 });
    const e = await http.request('GET', '/y').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ retryable: true, message: /^acme unreachable \(GET \/y\)/ });
    expect(String((e as Error).message)).not.toMatch(/secret-token/);
  });
});
