// What the audit log does: the append-only record of session transitions (written by the session
// store in the same step as each transition) and of engineer channels, credential reveals and
// operator actions (appended here). Entry ids grow with time ("<ms>-<seq>"), so they order entries
// and serve as cursors. Implementations: redis-audit.store.ts (a stream), memory/memory-audit.store.ts.

export interface AuditEntry {
  id: string;
  type: string;
  at: number;
  fields: Record<string, string>;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Where the next page starts (an entry id, exclusive); null when the log has nothing older. */
  next: string | null;
}

export interface AuditPageQuery {
  before?: string | undefined;
  limit: number;
  match?: (e: AuditEntry) => boolean;
  scanLimit?: number;
}

export interface AuditLog {
  /** Appends an entry; returns its id. */
  append(type: string, fields: Record<string, string | number>, now: number): Promise<string>;
  /** Oldest first, from `after` (exclusive entry id) on. */
  list(opts?: { after?: string; count?: number }): Promise<AuditEntry[]>;
  /** The newest entry's id, or null for an empty log. */
  lastId(): Promise<string | null>;
  /** Entries after `after`, waiting up to `blockMs` for the first. */
  follow(after: string, blockMs: number): Promise<AuditEntry[]>;
  /**
   * Newest first, older than `before` (exclusive entry id): up to `limit` entries that `match`,
   * reading at most `scanLimit` entries (default 20,000). A filtered page may come back short (even
   * empty) with a cursor when the scan limit ended it; `next` is null only when nothing older is left.
   */
  pageNewestFirst(opts: AuditPageQuery): Promise<AuditPage>;
  /** Every entry of one session, oldest first, from `sinceMs` (an entry id's time) on; at most `cap` read. */
  ofSession(sid: string, sinceMs: number, cap?: number): Promise<AuditEntry[]>;
}
