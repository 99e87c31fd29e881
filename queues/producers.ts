// Typed producers: one function per job, each parsing its payload against the central schema map
// before `add`, with deterministic job ids where a duplicate would hurt. Owns one BullMQ Queue per
// queue name, on its own duplicate of the connection the caller opened (and closes): see
// bull-connection.ts.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SessionRecord, TicketRef } from '../shared/session/session.schema.js';
import { jobIds } from './job-ids.js';
import { DEFAULT_RETRY, defaultJobOptions, type RetryPolicy } from './job-options.js';
import { JOBS, type JobData, type JobInput } from './job-schemas.js';
import type { ReplicaWait } from '../shared/redis-durability.js';
import { AppError } from '../shared/errors.js';
import { CLOSED_TICKET_MS } from './closed-ticket.store.js';
import { bullConnectionFrom } from './bull-connection.js';
import { JOB, QUEUE, QUEUE_NAMES, type JobName, type QueueName } from './queue-names.js';
import { bullPrefix, pipelineKeys, type PipelineKeys } from '../shared/store/redis-keys.js';
import type { TicketEvent } from './ticket-event.schema.js';

export interface ProducerOptions {
  /** A plain ioredis client (duplicated for the Queues); BullMQ Queues do not block, so the default retry settings are fine. */
  connection: Redis;
  /** The orchestrator's Redis prefix (TETHER_REDIS_PREFIX); BullMQ keys go under `<prefix>bull`. */
  prefix: string;
  retry?: RetryPolicy;
  /** Waits for Redis replicas (shared/redis-durability.ts): a ticket event is on them before ticketEvent() resolves. */
  replicaWait?: ReplicaWait | undefined;
}

export interface PlannedExpiry {
  kind: 'warn' | 'expire';
  runAt: number;
  offsetMs?: number;
}

export const MONITOR_SCHEDULER_ID = 'tunnel-monitor-sweep';

export class Producers {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly keys: PipelineKeys;
  private readonly redis: Redis;
  private readonly bull: Redis;
  private readonly replicaWait: ReplicaWait | undefined;
  private closed = false;

  constructor(opts: ProducerOptions) {
    this.redis = opts.connection;
    this.bull = bullConnectionFrom(opts.connection);
    this.replicaWait = opts.replicaWait;
    this.keys = pipelineKeys(opts.prefix);
    for (const name of QUEUE_NAMES) {
      const queue = new Queue(name, {
        connection: this.bull,
        prefix: bullPrefix(opts.prefix),
        defaultJobOptions: defaultJobOptions(name, opts.retry ?? DEFAULT_RETRY),
      });
      // Connection trouble surfaces on the client the caller owns; an unhandled 'error' would crash.
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
  }

  queue(name: QueueName): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`unknown queue ${name}`);
    return q;
  }

  /** Parses, then adds; returns the job id (an existing job with the same id is left as it is). */
  async add<N extends JobName>(name: N, input: JobInput<N>, opts: JobsOptions = {}): Promise<string> {
    const def = JOBS[name];
    const data = def.schema.parse({ ...(input as object), v: 1 }) as JobData<N>;
    const job = await this.queue(def.queue).add(name, data, opts);
    return job.id ?? '';
  }

  /**
   * Resolves once the event is queued, and on the replicas when a replica wait is set (a 202 follows).
   * `window`: the delivery's acceptance window, for ids remembered less long than jobs (job-ids.ts).
   */
  async ticketEvent(event: TicketEvent, opts: { window?: number | undefined } = {}): Promise<string> {
    const id = await this.add(JOB.ticketEvent, { event }, { jobId: jobIds.ticketEvent(event.ticket.system, event.deliveryId, opts.window) });
    await this.replicaWait?.(this.bull);
    return id;
  }

  /** Whether the event's job (by its deterministic id) is in the queue: waiting, running, or kept after it finished. */
  async hasTicketEvent(event: TicketEvent, opts: { window?: number | undefined } = {}): Promise<boolean> {
    return (await this.queue(QUEUE.ticketEvents).getJob(jobIds.ticketEvent(event.ticket.system, event.deliveryId, opts.window))) !== undefined;
  }

  /**
   * A ticket's key request gets the id of its ticket and serial, so duplicates collapse. A finished
   * job with that id (the earlier session ended) is removed first, so the ticket can ask again. A
   * running one would swallow the request while it may already have decided not to mint (the ticket
   * was closed meanwhile): that is a retryable `key_issue_running`, and the caller asks again later.
   */
  async keyIssue(input: JobInput<typeof JOB.keyIssue>): Promise<string> {
    if (!input.ticket) return this.add(JOB.keyIssue, input);
    const jobId = jobIds.keyIssue(input.ticket, input.serial);
    // Remembered for the ticket's close, which cancels the pending jobs of every serial (beside the
    // look for a job with this id: one round trip).
    const serials = this.keys.ticketKeySerials(input.ticket.system, input.ticket.id);
    const [existing] = await Promise.all([
      this.queue(QUEUE.keyIssue).getJob(jobId),
      this.redis.pipeline().sadd(serials, input.serial.toUpperCase()).pexpire(serials, CLOSED_TICKET_MS).exec(),
    ]);
    if (existing) {
      const state = await existing.getState();
      if (state === 'active') throw new AppError('key_issue_running', `the key-issue job ${jobId} of ticket ${input.ticket.system}:${input.ticket.id} is running`, { retryable: true });
      if (state === 'completed' || state === 'failed') await existing.remove();
    }
    return this.add(JOB.keyIssue, input, { jobId });
  }

  /** Whether the key-issue job of this ticket and serial is running now. */
  async keyIssueRunning(ticket: TicketRef, serial: string): Promise<boolean> {
    const job = await this.queue(QUEUE.keyIssue).getJob(jobIds.keyIssue(ticket, serial));
    return job !== undefined && (await job.getState()) === 'active';
  }

  /**
   * Drops a ticket's key requests that have not started yet (the ticket closed first): those of
   * every serial its jobs were queued for, plus `serials` (the event's, those of its live sessions).
   * A running one is left alone: it looks for the ticket's close mark itself (key-issue.worker.ts).
   */
  async cancelKeyIssue(ticket: TicketRef, serials: readonly string[]): Promise<void> {
    const queued = await this.redis.smembers(this.keys.ticketKeySerials(ticket.system, ticket.id));
    for (const serial of new Set([...queued, ...serials.map((s) => s.toUpperCase())])) {
      const job = await this.queue(QUEUE.keyIssue).getJob(jobIds.keyIssue(ticket, serial));
      if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) await job.remove();
    }
  }

  keyDelivery(sid: string, channel: 'email' = 'email'): Promise<string> {
    return this.add(JOB.keyDelivery, { sid, channel }, { jobId: jobIds.keyDelivery(sid) });
  }

  notification(input: JobInput<typeof JOB.notification>, jobId: string): Promise<string> {
    return this.add(JOB.notification, input, { jobId });
  }

  ticketComment(ticket: TicketRef, body: string, jobId: string, sid?: string): Promise<string> {
    return this.add(JOB.ticketComment, { ticket, sid, comment: { body, internal: true } }, { jobId });
  }

  /**
   * Replaces a session's planned expiry jobs with `plan` (delayed jobs whose ids carry the expiry
   * time). Jobs of an earlier plan are removed; one already running finds the expiry moved and
   * does nothing. `replace: false` skips looking for an earlier plan (a session just issued has none).
   */
  async scheduleExpiry(session: Pick<SessionRecord, 'id' | 'expiresAt'>, plan: readonly PlannedExpiry[], now: number, opts: { replace?: boolean } = {}): Promise<string[]> {
    const sid = session.id;
    const wanted = plan.map((p) => ({ ...p, jobId: jobIds.expiry(sid, p.kind, session.expiresAt, p.offsetMs) }));
    const indexKey = this.keys.expiryJobs(sid);
    const previous = opts.replace === false ? [] : await this.redis.smembers(indexKey);
    const keep = new Set(wanted.map((w) => w.jobId));
    // Sent together (one round trip on the auto-pipelined connection): a job missing from the index
    // only runs and finds nothing to do; an index entry without its job is skipped on removal.
    await Promise.all([
      ...wanted.map((w) =>
        this.add(
          JOB.expiry,
          { sid, kind: w.kind, expiresAt: session.expiresAt, offsetMs: w.offsetMs },
          { jobId: w.jobId, delay: Math.max(0, w.runAt - now) },
        ),
      ),
      wanted.length
        ? this.redis
            .pipeline()
            .sadd(indexKey, ...wanted.map((w) => w.jobId))
            .pexpire(indexKey, Math.max(60_000, session.expiresAt - now + 86_400_000))
            .exec()
        : undefined,
    ]);
    for (const id of previous.filter((p) => !keep.has(p))) await this.removeExpiryJob(sid, id);
    return wanted.map((w) => w.jobId);
  }

  /** Removes every planned expiry job of a session that has not started yet. */
  async cancelExpiry(sid: string): Promise<void> {
    for (const id of await this.redis.smembers(this.keys.expiryJobs(sid))) await this.removeExpiryJob(sid, id);
  }

  private async removeExpiryJob(sid: string, jobId: string): Promise<void> {
    // remove() leaves an active (locked) job alone; it re-checks the session and does nothing.
    const job = await this.queue(QUEUE.expiry).getJob(jobId);
    if (job && (await job.getState()) !== 'active') await job.remove();
    await this.redis.srem(this.keys.expiryJobs(sid), jobId);
  }

  /** Installs (or updates) the repeatable monitor sweep. */
  async ensureMonitor(everyMs: number): Promise<void> {
    await this.queue(QUEUE.tunnelMonitor).upsertJobScheduler(
      MONITOR_SCHEDULER_ID,
      { every: everyMs },
      { name: JOB.monitorSweep, data: JOBS[JOB.monitorSweep].schema.parse({ v: 1 }) },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.bull.disconnect();
  }
}

