// The append-only audit stream: session transitions (written by the session store's scripts) and
// engineer channels, credential reveals and operator actions (written here). Reads page through the
// stream by entry id, newest or oldest first, filtering as they go; a scan is bounded per call.
import type { Redis } from 'ioredis';
import { redisKeys } from './redis-keys.js';

export interface AuditEntry {
  id: string;
  type: string;
  at: number;
  fields: Record<string, string>;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Where the next page starts (an entry id, exclusive); null when the stream has nothing older. */
  next: string | null;
}

const BATCH = 500;

function entryOf([id, flat]: [string, string[]]): AuditEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  const { type = '', at = '0', ...rest } = fields;
  return { id, type, at: Number(at), fields: rest };
}

export class AuditStore {
  private readonly key: string;

  constructor(private readonly redis: Redis, prefix: string) {
    this.key = redisKeys(prefix).audit;
  }

  async append(type: string, fields: Record<string, string | number>, now: number): Promise<string> {
    const flat: string[] = ['type', type];
    for (const [k, v] of Object.entries(fields)) flat.push(k, String(v));
    flat.push('at', String(now));
    return (await this.redis.xadd(this.key, '*', ...flat)) as string;
  }

  /** Oldest first, from `after` (exclusive stream id) on. */
  async list(opts: { after?: string; count?: number } = {}): Promise<AuditEntry[]> {
    const start = opts.after ? `(${opts.after}` : '-';
    const rows = await this.redis.xrange(this.key, start, '+', 'COUNT', opts.count ?? 10_000);
    return rows.map(entryOf);
  }

  /** The newest entry's id, or null for an empty stream. */
  async lastId(): Promise<string | null> {
    const rows = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1);
    return rows[0]?.[0] ?? null;
  }

  /** Entries after `after`, waiting up to `blockMs` for the first (XREAD BLOCK: needs its own connection). */
  async follow(after: string, blockMs: number): Promise<AuditEntry[]> {
    const res = (await this.redis.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', this.key, after)) as [string, [string, string[]][]][] | null;
    return (res?.[0]?.[1] ?? []).map(entryOf);
  }

  /**
   * Newest first, older than `before` (exclusive stream id): up to `limit` entries that `match`,
   * reading at most `scanLimit` entries. A filtered page may come back short (even empty) with a
   * cursor when the scan limit ended it; `next` is null only when nothing older is left.
   */
  async pageNewestFirst(opts: { before?: string | undefined; limit: number; match?: (e: AuditEntry) => boolean; scanLimit?: number }): Promise<AuditPage> {
    const scanLimit = opts.scanLimit ?? 20_000;
    const entries: AuditEntry[] = [];
    let end = opts.before ? `(${opts.before}` : '+';
    let scanned = 0;
    for (;;) {
      const want = Math.min(BATCH, scanLimit - scanned);
      const rows = await this.redis.xrevrange(this.key, end, '-', 'COUNT', want);
      for (const row of rows) {
        scanned++;
        const e = entryOf(row);
        if (!opts.match || opts.match(e)) entries.push(e);
        if (entries.length === opts.limit || scanned === scanLimit) {
          const older = await this.redis.xrevrange(this.key, `(${e.id}`, '-', 'COUNT', 1);
          return { entries, next: older.length ? e.id : null };
        }
      }
      if (rows.length < want) return { entries, next: null };
      end = `(${rows[rows.length - 1]![0]}`;
    }
  }

  /** Every entry of one session, oldest first, from `sinceMs` (a stream id time) on; at most `cap` scanned. */
  async ofSession(sid: string, sinceMs: number, cap = 100_000): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let start = `${Math.max(0, Math.floor(sinceMs))}-0`;
    for (let scanned = 0; scanned < cap; ) {
      const rows = await this.redis.xrange(this.key, start, '+', 'COUNT', BATCH);
      for (const row of rows) {
        const e = entryOf(row);
        if (e.fields.sid === sid) out.push(e);
      }
      scanned += rows.length;
      if (rows.length < BATCH) break;
      start = `(${rows[rows.length - 1]![0]}`;
    }
    return out;
  }
}
