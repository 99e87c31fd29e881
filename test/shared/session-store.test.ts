import { randomBytes } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keyIdOf } from '../../shared/key/key-codec.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';

const prefix = randomPrefix();
let redis: Redis;
let sessions: RedisSessionStore;
let audit: RedisAuditLog;
const pair = generateKeyPairSync('ed25519');
const signingKey = { kid: keyIdOf(pair.publicKey), privateKey: pair.privateKey, publicKey: pair.publicKey, publicPem: '' };
const relay = { host: '127.0.0.1', port: 2222, fingerprint: 'SHA256:test' };

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  sessions = new RedisSessionStore(redis, prefix);
  audit = new RedisAuditLog(redis, prefix);
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const issue = (serial: string, ttlMs = 3_600_000) =>
  issueKey({ serial, product: 'sma', ttlMs, actor: 'test' }, { sessions, signingKey, relay, now: () => Date.now() });

describe('session store', () => {
  it('issues a session in ISSUED with the product default ports and indexes it by serial', async () => {
    const { session } = await issue('SN-STORE-1');
    expect(session.state).toBe('ISSUED');
    expect(session.ports).toEqual([22, 80, 443, 3306]);
    expect((await sessions.findLiveBySerial('sn-store-1'))?.id).toBe(session.id);
  });

  it('refuses a TTL over 12 weeks and stores nothing', async () => {
    const before = await redis.zcard(sessions.keys.sessions);
    await expect(issue('SN-STORE-2', 12 * 7 * 86_400_000 + 1000)).rejects.toMatchObject({ code: 'ttl_too_long' });
    expect(await redis.zcard(sessions.keys.sessions)).toBe(before);
  });

  it('refuses an address no mail job would accept (ops@localhost) and stores nothing', async () => {
    const before = await redis.zcard(sessions.keys.sessions);
    const bad = issueKey({ serial: 'SN-STORE-3', product: 'sma', ttlMs: 3_600_000, email: 'ops@localhost', actor: 'test' }, { sessions, signingKey, relay, now: () => Date.now() });
    await expect(bad).rejects.toMatchObject({ code: 'usage', message: 'invalid email "ops@localhost": must be a mail address' });
    expect(await redis.zcard(sessions.keys.sessions)).toBe(before);
    expect(await sessions.findLiveBySerial('SN-STORE-3')).toBeNull();
  });

  it('activates exactly once under 20 concurrent first logins, binding the winner\'s appliance key', async () => {
    const { session } = await issue('SN-STORE-3');
    const keys = Array.from({ length: 20 }, () => randomBytes(32));
    const results = await Promise.allSettled(keys.map((k) => sessions.activate(session.id, k, { actor: 'relay', now: Date.now(), relayId: 'r1' })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(19).fill('key_already_used'));
    const stored = await sessions.get(session.id);
    expect(stored).toMatchObject({ state: 'CONNECTED', appliancePub: keys[won[0]!]!.toString('base64') });
    expect((await sessions.findByCredential(keys[won[0]!]!))?.id).toBe(session.id);
    for (const [i, k] of keys.entries()) if (i !== won[0]) expect(await sessions.findByCredential(k)).toBeNull();
    const activations = (await audit.list()).filter((e) => e.type === 'session.activated' && e.fields.sid === session.id);
    expect(activations).toHaveLength(1);
  });

  it('never moves a session out of ISSUED by a plain connect: only activation does', async () => {
    const { session } = await issue('SN-STORE-3B');
    await expect(sessions.apply(session.id, 'connect', { actor: 'relay', now: Date.now() })).rejects.toMatchObject({ code: 'illegal_transition' });
    expect((await sessions.get(session.id))?.state).toBe('ISSUED');
  });

  it('closes with a reason, frees the serial, and then refuses every further event', async () => {
    const { session } = await issue('SN-STORE-4');
    await sessions.activate(session.id, randomBytes(32), { actor: 'relay', now: Date.now() });
    const r = await sessions.close(session.id, 'revoked', 'op', Date.now());
    expect(r).toMatchObject({ from: 'CONNECTED', to: 'CLOSED', outcome: 'closed' });
    expect((await sessions.get(session.id))?.reason).toBe('revoked');
    expect(await sessions.findLiveBySerial('SN-STORE-4')).toBeNull();
    await expect(sessions.apply(session.id, 'connect', { actor: 'relay', now: Date.now() })).rejects.toMatchObject({ code: 'session_closed' });
    await expect(sessions.close(session.id, 'expired', 'op', Date.now())).rejects.toMatchObject({ code: 'session_closed' });
  });

  it('publishes the issue and every transition on the events channel', async () => {
    const sub = new Redis(inject('redisUrl'));
    const got: string[] = [];
    await sub.subscribe(sessions.keys.events);
    sub.on('message', (_c, m) => got.push(JSON.parse(m).outcome));
    const { session } = await issue('SN-STORE-5');
    await sessions.activate(session.id, randomBytes(32), { actor: 'relay', now: Date.now() });
    await sessions.apply(session.id, 'lose', { actor: 'monitor', now: Date.now() });
    await sessions.apply(session.id, 'connect', { actor: 'relay', now: Date.now() });
    await sessions.close(session.id, 'customer_disabled', 'relay', Date.now());
    await new Promise((r) => setTimeout(r, 100));
    sub.disconnect();
    expect(got).toEqual(['issued', 'activated', 'lost', 'reconnected', 'closed']);
  });

  it('issuing a new key for a serial reports the live session it supersedes', async () => {
    const first = await issue('SN-STORE-6');
    const second = await issue('SN-STORE-6');
    expect(second.superseded).toBe(first.session.id);
    expect(await sessions.get(first.session.id)).toMatchObject({ state: 'CLOSED', reason: 'superseded' });
    expect((await sessions.findLiveBySerial('SN-STORE-6'))?.id).toBe(second.session.id);
  });

  it('finds stale sessions by heartbeat score range and ignores fresh ones', async () => {
    const a = await issue('SN-STORE-7');
    const b = await issue('SN-STORE-8');
    await sessions.activate(a.session.id, randomBytes(32), { actor: 'relay', now: 1000 });
    await sessions.activate(b.session.id, randomBytes(32), { actor: 'relay', now: 1000 });
    await sessions.touch([b.session.id], 5000);
    expect(await sessions.stale(3000)).toContain(a.session.id);
    expect(await sessions.stale(3000)).not.toContain(b.session.id);
  });
});
