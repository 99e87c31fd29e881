// The append-only audit stream: session transitions (written by the session store's scripts) and
// engineer channels, credential reveals and operator actions (written here).
import type { Redis } from 'ioredis';
import { redisKeys } from './redis-keys.js';

export interface AuditEntry {
  id: string;
  type: string;
  at: number;
  fields: Record<string, string>;
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
    return rows.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      const { type = '', at = '0', ...rest } = fields;
      return { id, type, at: Number(at), fields: rest };
    });
  }
}
