// The audit log in memory, for fast unit tests (not for production): entries in an array, ids
// "<ms>-<seq>" that grow like a Redis stream's (from the `now` of each append), and `follow` woken by
// the next append. Same reads as the Redis log: paging, filters and scan limits.
import type { AuditEntry, AuditLog, AuditPage, AuditPageQuery } from '../audit.store.js';

function idParts(id: string): [number, number] {
  const [ms = '0', seq = '0'] = id.split('-');
  return [Number(ms), Number(seq)];
}

/** Negative when entry id `a` comes before `b`. */
export function compareAuditIds(a: string, b: string): number {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  return am - bm || as - bs;
}

export class MemoryAuditLog implements AuditLog {
  private readonly entries: AuditEntry[] = [];
  private readonly waiters = new Set<() => void>();
  private last: [number, number] = [0, 0];

  async append(type: string, fields: Record<string, string | number>, now: number): Promise<string> {
    const [ms, seq] = this.last;
    this.last = now > ms ? [now, 0] : [ms, seq + 1];
    const id = this.last.join('-');
    this.entries.push({ id, type, at: now, fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])) });
    for (const wake of this.waiters) wake();
    return id;
  }

  async list(opts: { after?: string; count?: number } = {}): Promise<AuditEntry[]> {
    return this.after(opts.after).slice(0, opts.count ?? 10_000);
  }

  async lastId(): Promise<string | null> {
    return this.entries.at(-1)?.id ?? null;
  }

  async follow(after: string, blockMs: number): Promise<AuditEntry[]> {
    if (this.after(after).length === 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, blockMs);
        this.waiters.add(done);
      });
    }
    return this.after(after).slice(0, 1000);
  }

  async pageNewestFirst(opts: AuditPageQuery): Promise<AuditPage> {
    const older = opts.before ? this.entries.filter((e) => compareAuditIds(e.id, opts.before!) < 0) : this.entries;
    const scanLimit = opts.scanLimit ?? 20_000;
    const entries: AuditEntry[] = [];
    for (let i = older.length - 1, scanned = 1; i >= 0; i--, scanned++) {
      const e = older[i]!;
      if (!opts.match || opts.match(e)) entries.push(copy(e));
      if (entries.length === opts.limit || scanned === scanLimit) return { entries, next: i > 0 ? e.id : null };
    }
    return { entries, next: null };
  }

  async ofSession(sid: string, sinceMs: number, cap = 100_000): Promise<AuditEntry[]> {
    return this.entries
      .filter((e) => idParts(e.id)[0] >= Math.floor(sinceMs))
      .slice(0, cap)
      .filter((e) => e.fields.sid === sid)
      .map(copy);
  }

  private after(id: string | undefined): AuditEntry[] {
    return (id ? this.entries.filter((e) => compareAuditIds(e.id, id) > 0) : this.entries).map(copy);
  }
}

function copy(e: AuditEntry): AuditEntry {
  return { ...e, fields: { ...e.fields } };
}
