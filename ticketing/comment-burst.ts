// Collapses bursts of comments to one ticket (connected, lost, reconnected within seconds) into a
// single comment, so flapping tunnels stay inside the help desks' per-ticket rate limits (Zendesk:
// about 30 updates per ticket in 10 minutes). Trailing debounce over Redis, shared by every
// ticket-sync worker: each job records its comment and waits the window; the newest one then
// claims them all and posts (or any one, once the oldest has waited `maxDelayMs`); the others end.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { TicketRef } from '../shared/session/session.schema.js';
import { pipelineKeys } from '../shared/store/redis-keys.js';
import type { TicketComment } from './ticket-adapter.js';

const KEY_TTL_MS = 86_400_000;

/**
 * KEYS: 1 items hash (jobId → JSON {seq, at, body}), 2 sequence, 3 taken set (job ids already posted)
 * ARGV: 1 jobId, 2 JSON item without seq, 3 ttl ms. Returns 'taken' or 'entered'.
 */
const ENTER_LUA = `
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 'taken' end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  local item = cjson.decode(ARGV[2])
  item.seq = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(item))
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 'entered'
`;

/**
 * KEYS: 1 items hash, 2 taken set, 3 this job's claim
 * ARGV: 1 jobId, 2 now ms, 3 max delay ms, 4 ttl ms
 * Returns the claimed items (JSON strings), or an empty list when another job posts them.
 */
const TAKE_LUA = `
local mine = redis.call('HGET', KEYS[1], ARGV[1])
if not mine then return {} end
local mySeq = cjson.decode(mine).seq
local all = redis.call('HGETALL', KEYS[1])
local maxSeq, minAt, values, ids = 0, nil, {}, {}
for i = 1, #all, 2 do
  local item = cjson.decode(all[i + 1])
  if item.seq > maxSeq then maxSeq = item.seq end
  if minAt == nil or item.at < minAt then minAt = item.at end
  table.insert(ids, all[i])
  table.insert(values, all[i + 1])
end
if mySeq < maxSeq and tonumber(ARGV[2]) - minAt < tonumber(ARGV[3]) then return {} end
redis.call('DEL', KEYS[1])
redis.call('SADD', KEYS[2], unpack(ids))
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[3], cjson.encode(values), 'PX', ARGV[4])
return values
`;

export interface CommentBurstDeps {
  redis: Redis;
  /** The orchestrator's Redis prefix; keys go under `<prefix>pipeline:comment-burst:`. */
  prefix: string;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type BurstOutcome = { post: true; comment: TicketComment; count: number } | { post: false };

interface Item {
  seq: number;
  at: number;
  body: string;
}

/** One comment from several, oldest first. */
export function combineComments(bodies: readonly string[]): string {
  return bodies.join('\n\n');
}

export class CommentBurst {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: CommentBurstDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private keys(ticket: TicketRef, internal: boolean) {
    const h = createHash('sha256').update(`${ticket.system}\u0000${ticket.id}\u0000${internal ? 'i' : 'p'}`).digest('hex').slice(0, 32);
    return pipelineKeys(this.deps.prefix).commentBurst(h);
  }

  /**
   * Records the comment of job `jobId`, waits `windowMs`, and says whether this job posts (and
   * what) or another one does. A retried job that had claimed comments posts them again at once.
   */
  async settle(ticket: TicketRef, jobId: string, comment: TicketComment, windowMs: number): Promise<BurstOutcome> {
    const k = this.keys(ticket, comment.internal);
    const claimed = await this.deps.redis.get(k.claim(jobId));
    if (claimed) return this.outcome(JSON.parse(claimed) as string[], comment.internal);
    const item = JSON.stringify({ at: this.deps.now(), body: comment.body });
    const entered = await this.deps.redis.eval(ENTER_LUA, 3, k.items, k.seq, k.taken, jobId, item, String(KEY_TTL_MS));
    if (entered === 'taken') return { post: false };
    await this.sleep(windowMs);
    const values = (await this.deps.redis.eval(TAKE_LUA, 3, k.items, k.taken, k.claim(jobId), jobId, String(this.deps.now()), String(windowMs * 4), String(KEY_TTL_MS))) as string[];
    if (!values || values.length === 0) return { post: false };
    return this.outcome(values, comment.internal);
  }

  /** After the combined comment was posted: its claim is spent. */
  async posted(ticket: TicketRef, jobId: string, internal: boolean): Promise<void> {
    await this.deps.redis.del(this.keys(ticket, internal).claim(jobId));
  }

  private outcome(values: readonly string[], internal: boolean): BurstOutcome {
    const items = values.map((v) => JSON.parse(v) as Item).sort((a, b) => a.seq - b.seq);
    return { post: true, comment: { body: combineComments(items.map((i) => i.body)), internal }, count: items.length };
  }
}
