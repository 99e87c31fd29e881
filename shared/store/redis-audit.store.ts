// The audit log on a Redis stream: appends with XADD, reads page through the stream by entry id,
// newest or oldest first, filtering as they go; a scan is bounded per call. The session store's
// scripts append transitions to the same stream.
import type { Redis } from 'ioredis';
import type { AuditEntry, AuditLog, AuditPage, AuditPageQuery } from './audit.store.js';
import { redisKeys } from './redis-keys.js';

const BATCH = 500;

/** An entry as XRANGE / XREAD return it. */
export function auditEntryOf([id, flat]: [string, string[]]): AuditEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  const { type = '', at = '0', ...rest } = fields;
  return { id, type, at: Number(at), fields: rest };
}

export class RedisAuditLog implements AuditLog {
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

  async list(opts: { after?: string; count?: number } = {}): Promise<AuditEntry[]> {
    const start = opts.after ? `(${opts.after}` : '-';
    const rows = await this.redis.xrange(this.key, start, '+', 'COUNT', opts.count ?? 10_000);
    return rows.map(auditEntryOf);
  }

  async lastId(): Promise<string | null> {
    const rows = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1);
    return rows[0]?.[0] ?? null;
  }

  /** XREAD BLOCK: needs its own connection. */
  async follow(after: string, blockMs: number): Promise<AuditEntry[]> {
    const res = (await this.redis.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', this.key, after)) as [string, [string, string[]][]][] | null;
    return (res?.[0]?.[1] ?? []).map(auditEntryOf);
  }

  async pageNewestFirst(opts: AuditPageQuery): Promise<AuditPage> {
    const scanLimit = opts.scanLimit ?? 20_000;
    const entries: AuditEntry[] = [];
    let end = opts.before ? `(${opts.before}` : '+';
    let scanned = 0;
    for (;;) {
      const want = Math.min(BATCH, scanLimit - scanned);
      const rows = await this.redis.xrevrange(this.key, end, '-', 'COUNT', want);
      for (const row of rows) {
        scanned++;
        const e = auditEntryOf(row);
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

  async ofSession(sid: string, sinceMs: number, cap = 100_000): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let start = `${Math.max(0, Math.floor(sinceMs))}-0`;
    for (let scanned = 0; scanned < cap; ) {
      const rows = await this.redis.xrange(this.key, start, '+', 'COUNT', BATCH);
      for (const row of rows) {
        const e = auditEntryOf(row);
        if (e.fields.sid === sid) out.push(e);
      }
      scanned += rows.length;
      if (rows.length < BATCH) break;
      start = `(${rows[rows.length - 1]![0]}`;
    }
    return out;
  }
}
