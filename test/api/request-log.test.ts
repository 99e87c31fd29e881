// The API's request log over real HTTP (buildApiServer on 127.0.0.1:0, real Redis, a pino logger
// writing to a capture stream): a secret in a query string is refused and never reaches the log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { buildApiServer } from '../../api/api-server.js';
import { loadServerConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';

const ADMIN_TOKEN = 'request-log-admin-token-5f3a9c0123456789';
const prefix = randomPrefix();
const lines: string[] = [];
let home: string;
let redis: Redis;
let api: FastifyInstance;
let apiUrl: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tether-request-log-'));
  const config = loadServerConfig({
    TETHER_HOME: home,
    REDIS_URL: inject('redisUrl'),
    TETHER_REDIS_PREFIX: prefix,
    TETHER_WEBHOOK_SECRET: 'request-log-webhook-secret-0123456789',
    TETHER_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  redis = new Redis(inject('redisUrl'));
  const logger = createLogger('request-log-test', 'info', { write: (line: string) => void lines.push(line) });
  api = await buildApiServer({ config, redis, prefix, logger });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.server.address();
  apiUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  await api?.close();
  await deletePrefix(redis, prefix);
  redis?.disconnect();
  rmSync(home, { recursive: true, force: true });
});

beforeEach(() => {
  lines.length = 0;
});

const logged = () => lines.map((l) => JSON.parse(l) as { msg?: string; req?: { url?: string; query?: string } });

describe('request log', () => {
  it('refuses the admin token in a query string with 401 and logs the path without the token', async () => {
    const res = await fetch(`${apiUrl}/v1/sessions?token=${ADMIN_TOKEN}&limit=5`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');

    expect(lines.length).toBeGreaterThanOrEqual(2); // incoming + completed
    expect(lines.filter((l) => l.includes(ADMIN_TOKEN))).toEqual([]);
    const incoming = logged().find((l) => l.msg === 'incoming request');
    expect(incoming?.req).toMatchObject({ url: '/v1/sessions', query: '[redacted]' });
  });

  it('keeps a bare secret in the query (no name, no "=") and one on an unknown route out of the log', async () => {
    expect((await fetch(`${apiUrl}/v1/sessions?${ADMIN_TOKEN}`)).status).toBe(401);
    expect((await fetch(`${apiUrl}/v1/no-such-route?token=${ADMIN_TOKEN}`)).status).toBe(404);
    expect(lines.filter((l) => l.includes(ADMIN_TOKEN))).toEqual([]);
    expect(logged().filter((l) => l.msg === 'incoming request').map((l) => l.req?.url)).toEqual(['/v1/sessions', '/v1/no-such-route']);
  });
});
