// Sessions per state for the tether_sessions gauge, read on scrape with a bounded cost and no
// index of its own (nothing to migrate, nothing to drift). A session lives at most 12 weeks after
// issue, so only sessions issued within that window (plus slack) can be live: their states are
// counted in pages inside Redis; every older one is CLOSED (ZCARD of all sessions minus the window).
// Cost per read: 1 ZCARD + one short script per 1,000 sessions issued in the window (about 1 ms of
// Redis each: ~11 ms for 10,000); reads within `maxAgeMs` of each other share one answer.
import type { Redis } from 'ioredis';
import { SESSION_STATES, type SessionState } from '../session/session-machine.js';
import { redisKeys, type RedisKeys } from './redis-keys.js';

/** 12 weeks (the longest a session can live) and a week of slack for late expiry. */
export const LIVE_WINDOW_MS = 13 * 7 * 86_400_000;
const PAGE = 1_000;

/**
 * One page of the window, counted inside Redis (about 1 ms, so Redis is never held for long and
 * only counts cross the network). The session hashes are not declared keys: fine on one Redis and
 * on a Cluster with the `{tether}:` prefix the README asks for (one slot).
 * KEYS: 1 sessions zset. ARGV: 1 min issue time, 2 offset, 3 page size, 4 session key prefix, 5.. states.
 * Returns {ids seen, count per state in ARGV order}.
 */
const COUNT_PAGE_LUA = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'LIMIT', ARGV[2], ARGV[3])
local index, out = {}, {#ids}
for i = 5, #ARGV do index[ARGV[i]] = i - 3; out[i - 3] = 0 end
for _, id in ipairs(ids) do
  local state = redis.call('HGET', ARGV[4] .. id, 'state')
  local at = state and index[state]
  if at then out[at] = out[at] + 1 end
end
return out
`;

export interface SessionCensusOptions {
  now: () => number;
  /** Answers this fresh are reused (default 10 s, under a usual 15 s scrape interval). */
  maxAgeMs?: number;
}

export class SessionCensus {
  private readonly keys: RedisKeys;
  private last: { at: number; counts: Promise<Record<SessionState, number>> } | undefined;

  constructor(private readonly redis: Redis, prefix: string, private readonly opts: SessionCensusOptions) {
    this.keys = redisKeys(prefix);
  }

  count(): Promise<Record<SessionState, number>> {
    const now = this.opts.now();
    if (!this.last || now - this.last.at >= (this.opts.maxAgeMs ?? 10_000)) {
      const counts = this.read(now);
      this.last = { at: now, counts };
      counts.catch(() => (this.last = undefined)); // a failed read is not reused
    }
    return this.last.counts;
  }

  private async read(now: number): Promise<Record<SessionState, number>> {
    const counts = Object.fromEntries(SESSION_STATES.map((s) => [s, 0])) as Record<SessionState, number>;
    const total = await this.redis.zcard(this.keys.sessions);
    let inWindow = 0;
    for (let offset = 0; ; offset += PAGE) {
      const [seen, ...perState] = (await this.redis.eval(COUNT_PAGE_LUA, 1, this.keys.sessions, now - LIVE_WINDOW_MS, offset, PAGE, this.keys.session(''), ...SESSION_STATES)) as number[];
      SESSION_STATES.forEach((state, i) => {
        counts[state] += perState[i] ?? 0;
        inWindow += perState[i] ?? 0;
      });
      if ((seen ?? 0) < PAGE) break;
    }
    counts.CLOSED += Math.max(0, total - inWindow);
    return counts;
  }
}
