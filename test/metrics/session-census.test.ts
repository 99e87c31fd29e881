// The session census behind tether_sessions: live states read across page boundaries of the
// 13-week window, every older session counted CLOSED, and answers reused within maxAgeMs.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SessionCensus, LIVE_WINDOW_MS } from '../../shared/store/session-census.js';
import { redisKeys } from '../../shared/store/redis-keys.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';

let redis: Redis;
const prefix = randomPrefix();
const keys = redisKeys(prefix);
const NOW = 1_800_000_000_000;
const STATES = ['ISSUED', 'CONNECTED', 'LOST', 'CLOSED'] as const;

async function addSessions(n: number, issuedAt: (i: number) => number, tag: string): Promise<void> {
  const p = redis.pipeline();
  for (let i = 0; i < n; i++) {
    const id = `${tag}-${i}`;
    p.hset(keys.session(id), 'id', id, 'state', STATES[i % 4]!);
    p.zadd(keys.sessions, issuedAt(i), id);
  }
  await p.exec();
}

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  // 2,500 in the window (three pages), 300 issued before it.
  await addSessions(2_500, (i) => NOW - i * 60_000, 'recent');
  await addSessions(300, (i) => NOW - LIVE_WINDOW_MS - 1 - i, 'old');
});

afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('SessionCensus', () => {
  it('counts the states of sessions issued in the window, and every older session as CLOSED', async () => {
    const census = new SessionCensus(redis, prefix, { now: () => NOW, maxAgeMs: 0 });
    expect(await census.count()).toEqual({ ISSUED: 625, CONNECTED: 625, LOST: 625, CLOSED: 625 + 300 });
  });

  it('reuses an answer younger than maxAgeMs, and reads again after it', async () => {
    const clock = { now: NOW };
    const census = new SessionCensus(redis, prefix, { now: () => clock.now, maxAgeMs: 10_000 });
    const first = await census.count();
    await redis.hset(keys.session('recent-0'), 'state', 'CLOSED'); // was ISSUED
    clock.now += 9_999;
    expect(await census.count()).toEqual(first);
    clock.now += 1;
    expect(await census.count()).toEqual({ ...first, ISSUED: first.ISSUED - 1, CLOSED: first.CLOSED + 1 });
  });
});
