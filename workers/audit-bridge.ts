// The audit bridge: reads the append-only audit stream through a Redis consumer group and hands
// each session transition to the reaction executor (reaction-executor.ts), which queues its jobs.
// Unlike pub/sub nothing is lost: an entry is acknowledged only after its jobs are queued, and
// entries left pending by a crashed process are claimed again (XAUTOCLAIM) after `claimIdleMs`.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pipelineKeys, redisKeys } from '../shared/store/redis-keys.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { WorkerMeter } from '../shared/metrics.js';
import type { AuditEntry } from '../shared/store/audit.store.js';
import { auditEntryOf } from '../shared/store/redis-audit.store.js';
import { redisReplyCode } from '../shared/redis-reply.js';
import { reactToEntry, type ReactionDeps } from './reaction-executor.js';

export interface AuditBridgeDeps extends ReactionDeps {
  /** A connection the bridge may block on; it duplicates it and owns the duplicate. */
  connection: Redis;
  prefix: string;
  logger: Logger;
  blockMs?: number;
  /** Entries pending this long with some consumer are taken over. */
  claimIdleMs?: number;
  batch?: number;
  /** Counts each transition entry once system-wide; none when absent. */
  metrics?: Pick<WorkerMeter, 'transition'> | undefined;
}

type RawEntry = [id: string, fields: string[] | null];

/**
 * XREADGROUP's reply: RESP2 gives [[stream, entries], ...]; RESP3 (ioredis 6's default) gives a
 * map, which arrives as a flat [stream, entries, ...] list or a Map.
 */
export function entriesOfReply(reply: unknown): RawEntry[] {
  if (!reply) return [];
  if (reply instanceof Map) return [...reply.values()].flat() as RawEntry[];
  if (!Array.isArray(reply)) return [];
  if (typeof reply[0] === 'string') return reply.filter((_, i) => i % 2 === 1).flat() as RawEntry[];
  return reply.flatMap((pair) => (Array.isArray(pair) ? (pair[1] as RawEntry[]) : []));
}

function toEntry([id, flat]: RawEntry): AuditEntry | null {
  return flat ? auditEntryOf([id, flat]) : null; // null: deleted from the stream meanwhile
}

export class AuditBridge {
  private readonly client: Redis;
  private readonly stream: string;
  private readonly group: string;
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly log: Logger;
  private loop: Promise<void> | undefined;
  private closing = false;
  private nextClaimAt = 0;

  constructor(private readonly deps: AuditBridgeDeps) {
    this.client = deps.connection.duplicate();
    this.client.on('error', () => undefined); // reconnects are retried by the loop
    this.stream = redisKeys(deps.prefix).audit;
    this.group = pipelineKeys(deps.prefix).reactionsGroup;
    this.log = deps.logger.child({ component: 'audit-bridge' });
  }

  async start(): Promise<void> {
    if (this.loop) return;
    await this.ensureGroup();
    this.loop = this.run();
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From the start of the stream: on first start every existing transition gets its reactions.
      await this.client.call('XGROUP', 'CREATE', this.stream, this.group, '0', 'MKSTREAM');
    } catch (err) {
      if (redisReplyCode(err) !== 'BUSYGROUP') throw err;
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      try {
        if (this.deps.now() >= this.nextClaimAt) await this.claimStale();
        const reply = await this.client.call(
          'XREADGROUP', 'GROUP', this.group, this.consumer, 'COUNT', this.deps.batch ?? 100,
          'BLOCK', this.deps.blockMs ?? 2_000, 'STREAMS', this.stream, '>',
        );
        await this.handleAll(entriesOfReply(reply));
        failures = 0;
      } catch (err) {
        if (this.closing) break;
        if (redisReplyCode(err) === 'NOGROUP') await this.ensureGroup().catch(() => undefined);
        failures++;
        this.log.warn({ err: describeError(err), failures }, 'audit bridge read failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** Math.min(failures, 5), 3_000)));
      }
    }
  }

  private async claimStale(): Promise<void> {
    const idle = this.deps.claimIdleMs ?? 60_000;
    this.nextClaimAt = this.deps.now() + Math.max(500, idle / 2);
    let cursor = '0-0';
    do {
      const res = (await this.client.call('XAUTOCLAIM', this.stream, this.group, this.consumer, idle, cursor, 'COUNT', 100)) as [string, RawEntry[], ...unknown[]];
      cursor = res[0];
      if (res[1].length) this.log.info({ count: res[1].length }, 'claimed audit entries left pending');
      await this.handleAll(res[1]);
    } while (cursor !== '0-0' && !this.closing);
  }

  /** Entries of different sessions are handled concurrently; those of one session in stream order. */
  private async handleAll(entries: RawEntry[]): Promise<void> {
    const bySession = new Map<string, RawEntry[]>();
    for (const raw of entries) {
      const sid = toEntry(raw)?.fields.sid ?? raw[0];
      bySession.set(sid, [...(bySession.get(sid) ?? []), raw]);
    }
    await Promise.all(
      [...bySession.values()].map(async (list) => {
        for (const raw of list) if (!(await this.handleOne(raw))) return; // keep a session's later entries pending too
      }),
    );
  }

  private async handleOne(raw: RawEntry): Promise<boolean> {
    const entry = toEntry(raw);
    try {
      if (entry && entry.type.startsWith('session.')) await reactToEntry(entry, this.deps);
      const acked = await this.client.call('XACK', this.stream, this.group, raw[0]);
      // XACK answers 1 only to the first consumer that acknowledges an entry (a claimed entry may
      // be handled twice), so every transition is counted once in the whole system.
      if (acked === 1 && entry?.type.startsWith('session.')) this.deps.metrics?.transition(entry.type.slice('session.'.length), entry.fields.reason ?? '');
      return true;
    } catch (err) {
      // Left pending: claimed again after claimIdleMs.
      this.log.warn({ entry: raw[0], err: describeError(err) }, 'reaction failed; will retry');
      return false;
    }
  }

  /** Stops reading; an entry being handled finishes first (or stays pending for a claim). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.client.disconnect();
    await this.loop?.catch(() => undefined);
  }
}
