// GET /v1/events against real Redis: transitions fan out to every open stream over one subscriber,
// heartbeats keep streams alive, closed streams are let go, and only operators may listen.
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerErrorHandling } from '../../api/error-handler.js';
import { eventsRoute } from '../../api/events.route.js';
import { installOperatorAuth } from '../../api/operator-auth.js';
import { ConsoleSessionStore } from '../../shared/store/console-session.store.js';
import { OperatorStore } from '../../shared/store/operator.store.js';
import { redisKeys } from '../../shared/store/redis-keys.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';

const ADMIN_TOKEN = randomBytes(24).toString('base64url');

let redis: Redis;
let prefix: string;
let app: FastifyInstance;
let base: string;
let viewerToken: string;
const open: Stream[] = [];

interface Stream {
  req: ClientRequest;
  res: IncomingMessage;
  text(): string;
  /** Resolves with the stream's text once `re` matches it. */
  until(re: RegExp, ms?: number): Promise<string>;
  close(): void;
}

function connect(token: string | undefined): Promise<Stream | IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/v1/events`, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      if (res.statusCode !== 200) return resolve(res);
      let text = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        for (const w of [...waiters]) w();
      });
      const stream: Stream = {
        req,
        res,
        text: () => text,
        until: (re, ms = 3_000) =>
          new Promise((ok, fail) => {
            const check = () => {
              if (!re.test(text)) return;
              waiters.delete(check);
              clearTimeout(timer);
              ok(text);
            };
            const timer = setTimeout(() => (waiters.delete(check), fail(new Error(`stream did not show ${re} within ${ms} ms; got ${JSON.stringify(text)}`))), ms);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      };
      open.push(stream);
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

async function stream(token = ADMIN_TOKEN): Promise<Stream> {
  const s = await connect(token);
  if (!('until' in s)) throw new Error(`GET /v1/events answered ${s.statusCode}`);
  await s.until(/retry: 2000\n\n/);
  return s;
}

async function newSession(serial: string): Promise<{ id: string; sessions: RedisSessionStore }> {
  const sessions = new RedisSessionStore(redis, prefix);
  const id = randomBytes(9).toString('base64url');
  const now = Date.now();
  await sessions.create(
    { id, jti: randomBytes(9).toString('base64url'), serial, product: 'sma', ports: [22], tunnelPub: randomBytes(32), issuedAt: now, expiresAt: now + 3_600_000 },
    'test',
  );
  return { id, sessions };
}

async function subscribers(): Promise<number> {
  const [, count] = (await redis.pubsub('NUMSUB', redisKeys(prefix).events)) as [string, number];
  return Number(count);
}

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  prefix = randomPrefix();
  const operators = new OperatorStore(redis, prefix);
  viewerToken = (await operators.add('vera', 'viewer', 'test', Date.now())).token;
  app = Fastify();
  registerErrorHandling(app);
  await installOperatorAuth(app, { operators, consoleSessions: new ConsoleSessionStore(redis, prefix), adminToken: ADMIN_TOKEN });
  await app.register(eventsRoute, { redis, redisPrefix: prefix, heartbeatMs: 100 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

afterAll(async () => {
  await app?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('GET /v1/events', () => {
  it('fans the issue and every transition out to every open stream over a single Redis subscriber', async () => {
    const streams = await Promise.all([stream(), stream(), stream(viewerToken)]);
    expect(await subscribers()).toBe(1);
    const { id, sessions } = await newSession('SN-EVENTS-1');
    await sessions.close(id, 'revoked', 'test', Date.now());
    for (const s of streams) {
      const text = await s.until(/(event: session\ndata: .*\n\n[^]*){2}/);
      const [issued, closed] = [...text.matchAll(/event: session\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!));
      // A new session comes from no state: `from` is absent.
      expect(issued).toEqual({ sid: id, serial: 'SN-EVENTS-1', to: 'ISSUED', outcome: 'issued', at: expect.any(String) });
      expect(closed).toMatchObject({ sid: id, serial: 'SN-EVENTS-1', from: 'ISSUED', to: 'CLOSED', outcome: 'closed', reason: 'revoked' });
      expect(new Date(closed.at).toISOString()).toBe(closed.at);
    }
    // More streams later still share the one subscriber.
    await stream();
    expect(await subscribers()).toBe(1);
  });

  it('shows an extension: outcome extended, the unchanged state, the new expiry in ISO 8601', async () => {
    const s = await stream();
    const { id, sessions } = await newSession('SN-EVENTS-X');
    const later = Math.floor(Date.now() / 1000) * 1000 + 7_200_000;
    await sessions.extend(id, later, 'op:test', Date.now());
    const text = await s.until(/"outcome":"extended"/);
    const extended = [...text.matchAll(/event: session\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!)).find((e) => e.outcome === 'extended');
    expect(extended).toMatchObject({ sid: id, serial: 'SN-EVENTS-X', from: 'ISSUED', to: 'ISSUED', expiresAt: new Date(later).toISOString() });
  });

  it('answers with an event stream that is not cached and keeps it alive with heartbeat comments', async () => {
    const s = await stream();
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.res.headers['cache-control']).toBe('no-store');
    await s.until(/: heartbeat\n\n/, 1_000);
  });

  it('drops messages that are not session events and still delivers the next real one', async () => {
    const s = await stream();
    await redis.publish(redisKeys(prefix).events, '{"sid":1,"nonsense":true}');
    await redis.publish(redisKeys(prefix).events, 'not json');
    const { id, sessions } = await newSession('SN-EVENTS-2');
    await sessions.close(id, 'expired', 'test', Date.now());
    const text = await s.until(/"reason":"expired"/);
    // The session's issue and its close; nothing for the two that do not parse.
    expect(text.match(/event: session/g)).toHaveLength(2);
  });

  it('lets a stream go when the browser disconnects', async () => {
    const s = await stream();
    const count = () => new Promise<number>((ok, fail) => app.server.getConnections((err, n) => (err ? fail(err) : ok(n))));
    expect(await count()).toBeGreaterThanOrEqual(1);
    s.close();
    const deadline = Date.now() + 2_000;
    while ((await count()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await count()).toBe(0);
    // Transitions after the disconnect go nowhere and break nothing.
    const { id, sessions } = await newSession('SN-EVENTS-3');
    await sessions.close(id, 'revoked', 'test', Date.now());
    const next = await stream();
    expect(next.text()).not.toMatch(/event: session/);
  });

  it('refuses a caller without credentials or with a wrong token, with 401', async () => {
    for (const token of [undefined, 'wrong-token-wrong-token']) {
      const res = (await connect(token)) as IncomingMessage;
      expect(res.statusCode).toBe(401);
      res.resume();
    }
  });
});

describe('closing the api', () => {
  it('ends open streams instead of waiting for them', async () => {
    const redis2 = new Redis(inject('redisUrl'));
    const prefix2 = randomPrefix();
    const server = Fastify();
    registerErrorHandling(server);
    await installOperatorAuth(server, { operators: new OperatorStore(redis2, prefix2), consoleSessions: new ConsoleSessionStore(redis2, prefix2), adminToken: ADMIN_TOKEN });
    await server.register(eventsRoute, { redis: redis2, redisPrefix: prefix2 });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const addr = server.server.address();
    const savedBase = base;
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      const s = await stream();
      const ended = new Promise<void>((ok) => s.res.once('end', () => ok()));
      const started = Date.now();
      await server.close();
      await ended;
      expect(Date.now() - started).toBeLessThan(2_000);
      const [, subs] = (await redis2.pubsub('NUMSUB', redisKeys(prefix2).events)) as [string, number];
      expect(Number(subs)).toBe(0);
    } finally {
      base = savedBase;
      redis2.disconnect();
    }
  });
});
