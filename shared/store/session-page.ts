// Pages through sessions newest first (by issue time) with filters, for the operator API. A cursor
// names the last session returned (`<issuedAt ms>:<id>`); records are read in pipelined batches and
// a call scans a bounded number of sessions, so a rare filter returns short pages, never a slow one.
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import type { Product } from '../key/tether-key.schema.js';
import type { SessionState } from '../session/session-machine.js';
import { sessionRecordSchema, type SessionRecord } from '../session/session.schema.js';
import { redisKeys } from './redis-keys.js';

export interface SessionFilter {
  state?: SessionState | undefined;
  /** Case-insensitive, exact. */
  serial?: string | undefined;
  /** `system:id`, or the ticket id alone. */
  ticket?: string | undefined;
  product?: Product | undefined;
}

export interface SessionPage {
  sessions: SessionRecord[];
  /** Cursor of the next page; null when nothing older is left. */
  next: string | null;
}

const BATCH = 200;
const CURSOR = /^(\d{1,16}):([A-Za-z0-9_-]{8,64})$/;

function matches(s: SessionRecord, f: SessionFilter): boolean {
  if (f.state && s.state !== f.state) return false;
  if (f.product && s.product !== f.product) return false;
  if (f.serial && s.serial.toUpperCase() !== f.serial.toUpperCase()) return false;
  if (f.ticket) {
    if (!s.ticket) return false;
    const full = `${s.ticket.system}:${s.ticket.id}`;
    if (f.ticket !== full && f.ticket !== s.ticket.id) return false;
  }
  return true;
}

const FILTER_FIELDS = ['state', 'serial', 'ticket', 'product'] as const;

/** Per row, whether its stored state, serial, ticket and product pass the filter (one pipelined HMGET each). */
async function filterFlags(redis: Redis, keys: ReturnType<typeof redisKeys>, rows: readonly { id: string }[], f: SessionFilter): Promise<boolean[]> {
  if (rows.length === 0) return [];
  const pipe = redis.pipeline();
  for (const r of rows) pipe.hmget(keys.session(r.id), ...FILTER_FIELDS);
  const results = (await pipe.exec()) ?? [];
  return rows.map((_, i) => {
    const [state, serial, ticket, product] = (results[i]?.[1] as (string | null)[] | undefined) ?? [];
    if (f.state && state !== f.state) return false;
    if (f.product && product !== f.product) return false;
    if (f.serial && serial?.toUpperCase() !== f.serial.toUpperCase()) return false;
    if (f.ticket && (!ticket || (ticket !== f.ticket && ticket.slice(ticket.indexOf(':') + 1) !== f.ticket))) return false;
    return true;
  });
}

export async function pageSessions(
  redis: Redis,
  prefix: string,
  req: SessionFilter & { limit: number; cursor?: string | undefined; scanLimit?: number },
): Promise<SessionPage> {
  const keys = redisKeys(prefix);
  let max = '+inf';
  let after: { score: number; id: string } | undefined;
  if (req.cursor) {
    const m = CURSOR.exec(req.cursor);
    if (!m) throw new AppError('usage', 'invalid cursor: pass back the nextCursor of the previous page');
    after = { score: Number(m[1]), id: m[2]! };
    max = String(after.score);
  }
  const scanLimit = req.scanLimit ?? 5_000;
  // Unfiltered, every record matches: read one more than the page (to know whether more follow), not a whole batch.
  const filtered = Boolean(req.state || req.serial || req.ticket || req.product);
  const batch = filtered ? BATCH : Math.min(BATCH, req.limit + 1);
  const sessions: SessionRecord[] = [];
  let offset = 0;
  let scanned = 0;
  for (;;) {
    const flat = await redis.zrevrangebyscore(keys.sessions, max, '-inf', 'WITHSCORES', 'LIMIT', offset, batch);
    const rows: { id: string; score: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) rows.push({ id: flat[i]!, score: Number(flat[i + 1]) });
    offset += rows.length;
    // Equal scores come in reverse member order: those at the cursor's score up to its id were served.
    const fresh = after ? rows.filter((r) => r.score < after.score || r.id < after.id) : rows;
    // With a filter, four fields of each record decide; only the matches are read whole and parsed.
    const flags = filtered ? await filterFlags(redis, keys, fresh, req) : fresh.map(() => true);
    const wanted = fresh.map((r, i) => ({ r, i })).filter(({ i }) => flags[i] && scanned + i < scanLimit);
    const pipe = redis.pipeline();
    for (const { r } of wanted) pipe.hgetall(keys.session(r.id));
    const results = wanted.length ? ((await pipe.exec()) ?? []) : [];
    const whole = new Map(wanted.map(({ i }, k) => [i, results[k]?.[1]]));
    for (let i = 0; i < fresh.length; i++) {
      scanned++;
      const parsed = whole.has(i) ? sessionRecordSchema.safeParse(whole.get(i)) : undefined;
      if (parsed?.success && matches(parsed.data, req)) sessions.push(parsed.data);
      const more = i < fresh.length - 1 || rows.length === batch;
      if (sessions.length === req.limit || scanned === scanLimit) {
        if (!more) return { sessions, next: null };
        // The cursor must name a real position: the last scanned record (its score is its issue time), even when it did not match.
        return { sessions, next: `${fresh[i]!.score}:${fresh[i]!.id}` };
      }
    }
    if (rows.length < batch) return { sessions, next: null };
  }
}
