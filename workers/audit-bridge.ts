// The audit bridge: reads the append-only audit stream through a Redis consumer group and turns
// each session transition into jobs (session-reactions.ts). Unlike pub/sub nothing is lost: an
// entry is acknowledged only after its jobs are queued, and entries left pending by a crashed
// process are claimed again (XAUTOCLAIM) after `claimIdleMs`.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { KeyTextStore } from '../queues/key-text.store.js';
import { pipelineKeys } from '../queues/pipeline-keys.js';
import type { Producers } from '../queues/producers.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { WorkerMeter } from '../shared/metrics.js';
import type { ApplianceStore } from '../shared/store/appliance.store.js';
import type { AuditEntry } from '../shared/store/audit.store.js';
import type { CredentialStore } from '../shared/store/credential.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { applianceReactionsTo, type ApplianceReaction } from './appliance-reactions.js';
import { nextExpiryStep, planExpiry, reactionsTo, type Reaction } from './session-reactions.js';
import { redisReplyCode } from '../shared/redis-reply.js';

export interface AuditBridgeDeps {
  /** A connection the bridge may block on; it duplicates it and owns the duplicate. */
  connection: Redis;
  prefix: string;
  sessions: SessionStore;
  keyTexts: KeyTextStore;
  producers: Producers;
  now: () => number;
  logger: Logger;
  /** Inboxes of enrolled appliances and their open one-click tickets (skipped when absent). */
  appliances?: ApplianceStore;
  /** Support password custody: destroyed when the session closes (skipped when absent). */
  credentials?: CredentialStore;
  warnOffsetsMs: readonly number[];
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
  if (!flat) return null; // deleted from the stream meanwhile
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  const { type = '', at = '0', ...rest } = fields;
  return { id, type, at: Number(at), fields: rest };
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
    this.stream = deps.sessions.keys.audit;
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
      if (entry && entry.type.startsWith('session.')) await this.react(entry);
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

  private async react(entry: AuditEntry): Promise<void> {
    const sid = entry.fields.sid;
    if (!sid) return;
    const session = await this.deps.sessions.get(sid);
    // Only a close asks whether the key mail went out.
    const delivered = session && entry.type === 'session.closed' ? await this.deps.keyTexts.isDelivered(sid) : false;
    for (const r of reactionsTo(entry, session, { delivered })) await this.apply(r, sid, session, entry);
    for (const r of applianceReactionsTo(entry, session)) await this.applyAppliance(r, sid);
  }

  private async applyAppliance(r: ApplianceReaction, sid: string): Promise<void> {
    switch (r.kind) {
      case 'remove-from-inbox':
        await this.deps.appliances?.removeFromInbox(r.serial, sid);
        return;
      case 'destroy-password':
        await this.deps.credentials?.destroy(sid);
        return;
      case 'forget-open-ticket':
        await this.deps.appliances?.forgetTicket(r.serial, r.ticket);
        return;
    }
  }

  private async apply(r: Reaction, sid: string, session: Awaited<ReturnType<SessionStore['get']>>, entry: AuditEntry): Promise<void> {
    const p = this.deps.producers;
    switch (r.kind) {
      case 'plan-expiry': {
        if (!session) return;
        // Only the first step is queued; each warning queues the next. A new session has no earlier
        // plan to replace (a second run of its entry plans the same job id).
        const now = this.deps.now();
        await p.scheduleExpiry(session, [nextExpiryStep(planExpiry(session, this.deps.warnOffsetsMs, now))], now, { replace: entry.type !== 'session.issued' });
        return;
      }
      case 'cancel-expiry':
        return p.cancelExpiry(sid);
      case 'forget-key-text':
        return this.deps.keyTexts.forget(sid);
      case 'comment':
        await p.ticketComment(r.ticket, r.body, r.jobId, sid);
        return;
      case 'notify':
        await p.notification({ template: r.template, to: [r.to], sid }, r.jobId);
        return;
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
