// With TETHER_REDIS_WAIT_REPLICAS set, an operator's revoke or extend is answered 200 only after
// the write is on the replicas (WAIT): a failover right after the answer cannot undo it. Real
// redis-server primary and replica on loopback; the primary's command stats show the WAIT.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../api/api-server.js';
import { loadServerConfig } from '../../shared/config.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import { createLogger } from '../../shared/logger.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const ADMIN = 'replicated-writes-admin-token-0123456789';
let primary: RedisServerHandle;
let replica: RedisServerHandle;
let redis: Redis;
let replicaClient: Redis;
let app: FastifyInstance;
let home: string;

async function replicationUp(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!/master_link_status:up/.test(await replicaClient.info('replication'))) {
    if (Date.now() > deadline) throw new Error('replica did not sync');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitCalls(): Promise<number> {
  return Number(/cmdstat_wait:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
}

beforeAll(async () => {
  primary = await startRedisServer();
  replica = await startRedisServer();
  redis = new Redis(primary.url);
  replicaClient = new Redis(replica.url);
  await replicaClient.call('REPLICAOF', '127.0.0.1', String(primary.port));
  await replicationUp();
  home = mkdtempSync(join(tmpdir(), 'tether-wait-'));
  const config = loadServerConfig({
    TETHER_HOME: home,
    REDIS_URL: primary.url,
    TETHER_ADMIN_TOKEN: ADMIN,
    TETHER_LOG_LEVEL: 'silent',
    TETHER_REDIS_WAIT_REPLICAS: '1',
    TETHER_REDIS_WAIT_MS: '2000',
  });
  const hostKey = loadOrCreateRelayHostKey(home);
  app = await buildApiServer({ config, redis, prefix: config.redisPrefix, logger: createLogger('wait-test', 'silent'), oneClick: { signingKey: loadOrCreateSigningKey(home), relay: { host: 'relay.test', port: 2222, fingerprint: hostKey.fingerprint } } });
  await app.ready();
}, 30_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  replicaClient?.disconnect();
  await replica?.stop();
  await primary?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function issued(serial: string): Promise<string> {
  const sessions = new RedisSessionStore(redis, loadServerConfig({ TETHER_HOME: home, REDIS_URL: primary.url }).redisPrefix);
  const { session } = await issueKey(
    { serial, product: 'sma', ttlMs: 3_600_000, actor: 'test' },
    { sessions, signingKey: loadOrCreateSigningKey(home), relay: { host: 'relay.test', port: 2222, fingerprint: loadOrCreateRelayHostKey(home).fingerprint }, now: Date.now },
  );
  return session.id;
}

async function post(url: string, body?: unknown) {
  return app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });
}

describe('operator writes that must survive a failover', () => {
  it('revoke answers 200 after a WAIT for one replica, which already holds the CLOSED session', async () => {
    const id = await issued('K1000-WAIT01');
    const before = await waitCalls();
    const res = await post(`/v1/sessions/${id}/revoke`);
    expect(res.statusCode, res.body).toBe(200);
    expect(await waitCalls()).toBe(before + 1);
    const prefix = loadServerConfig({ TETHER_HOME: home, REDIS_URL: primary.url }).redisPrefix;
    expect(await replicaClient.hget(`${prefix}session:${id}`, 'state')).toBe('CLOSED');
  });

  it('extend answers 200 after a WAIT for one replica, which already holds the new expiry', async () => {
    const id = await issued('K1000-WAIT02');
    const before = await waitCalls();
    const res = await post(`/v1/sessions/${id}/extend`, { ttl: '5h' });
    expect(res.statusCode, res.body).toBe(200);
    expect(await waitCalls()).toBe(before + 1);
    const expiresAt = Date.parse((JSON.parse(res.body) as { session: { expiresAt: string } }).session.expiresAt);
    const prefix = loadServerConfig({ TETHER_HOME: home, REDIS_URL: primary.url }).redisPrefix;
    expect(Number(await replicaClient.hget(`${prefix}session:${id}`, 'expiresAt'))).toBe(expiresAt);
  });

  it('a refused revoke (unknown session) waits for nothing', async () => {
    const before = await waitCalls();
    const res = await post('/v1/sessions/nosuch-session/revoke');
    expect(res.statusCode).toBe(404);
    expect(await waitCalls()).toBe(before);
  });
});
