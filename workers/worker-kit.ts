// What every worker file shares: parse job data against the central schema first, turn
// non-retryable AppErrors into BullMQ's UnrecoverableError, and build the BullMQ Worker with an
// error listener and a hook for jobs that failed for good (retries exhausted or unrecoverable).
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOBS, type JobData } from '../queues/job-schemas.js';
import type { JobName } from '../queues/queue-names.js';
import { bullPrefix } from '../shared/store/redis-keys.js';
import { describeError, isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { WorkerMeter } from '../shared/metrics.js';

/** What a processor may know about the job beyond its payload. */
export interface JobContext {
  jobId: string;
  attemptsMade: number;
}

export type Processor<N extends JobName, R = unknown> = (data: JobData<N>, ctx: JobContext) => Promise<R>;

export interface FailedForGood {
  queue: string;
  jobId: string;
  jobName: string;
  attempts: number;
  /** When it failed for good (ms). */
  failedAt: number;
  error: string;
}

export interface WorkerRuntime {
  /** ioredis client with maxRetriesPerRequest null (openRedis(url, { forBullmq: true })). */
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  onFailedForGood?: (failure: FailedForGood) => void | Promise<void>;
  /** Observes each run's duration (successful or not); none when absent. */
  metrics?: Pick<WorkerMeter, 'jobDuration'> | undefined;
}

/** Parses job data; data that does not match (another version, corruption) is never retried. */
export function parseJobData<N extends JobName>(name: N, data: unknown): JobData<N> {
  const parsed = JOBS[name].schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnrecoverableError(`job data does not match the ${name} v1 schema: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'invalid'}`);
  }
  return parsed.data as JobData<N>;
}

/**
 * A help desk that said how long to wait (GitHub's secondary limit: at least a minute) gets that
 * wait instead of the exponential backoff: the job is moved to the delayed set, which is not a
 * failed attempt. Bounded: after twice the job's attempts, the normal retry path takes over.
 */
async function waitForBusyHelpDesk(err: unknown, job: Job, token: string | undefined): Promise<boolean> {
  const wait = isAppError(err, 'help_desk_busy') ? (err as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  if (typeof wait !== 'number' || wait <= 0 || !token) return false;
  if (job.attemptsStarted > 2 * (job.opts.attempts ?? 1)) return false;
  await job.moveToDelayed(Date.now() + wait, token);
  return true;
}

/** Non-retryable AppErrors become UnrecoverableError; everything else is retried with backoff. */
export function toBullError(err: unknown): unknown {
  if (isAppError(err) && !err.retryable) return new UnrecoverableError(`${err.code}: ${describeError(err)}`);
  return err;
}

export function buildWorker<N extends JobName>(name: N, process: Processor<N>, rt: WorkerRuntime): Worker {
  const queue = JOBS[name].queue;
  const log = rt.logger.child({ queue });
  const worker = new Worker(
    queue,
    async (job: Job, token?: string) => {
      if (job.name !== name) throw new UnrecoverableError(`unexpected job name ${job.name} on queue ${queue}`);
      const data = parseJobData(name, job.data);
      const started = performance.now();
      try {
        return await process(data, { jobId: job.id ?? '', attemptsMade: job.attemptsMade });
      } catch (err) {
        if (await waitForBusyHelpDesk(err, job, token)) throw new DelayedError();
        throw toBullError(err);
      } finally {
        rt.metrics?.jobDuration(queue, (performance.now() - started) / 1000);
      }
    },
    {
      connection: rt.connection,
      prefix: bullPrefix(rt.prefix),
      concurrency: rt.concurrency ?? 8,
      ...(rt.lockDurationMs ? { lockDuration: rt.lockDurationMs } : {}),
      ...(rt.stalledIntervalMs ? { stalledInterval: rt.stalledIntervalMs } : {}),
    },
  );
  // The same error (Redis gone, say) is logged once a minute, not on every retry.
  let last = { text: '', at: 0 };
  worker.on('error', (err) => {
    const text = describeError(err);
    const at = Date.now();
    if (text === last.text && at - last.at < 60_000) return;
    last = { text, at };
    log.warn({ err: text }, 'worker error');
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const forGood = Boolean(job.finishedOn) || err instanceof UnrecoverableError || err.name === 'UnrecoverableError';
    const entry = { jobId: job.id, attempt: job.attemptsMade, err: describeError(err) };
    if (!forGood) {
      log.warn(entry, 'job failed; will retry');
      return;
    }
    log.error(entry, 'job failed for good');
    const failure = { queue, jobId: job.id ?? '', jobName: job.name, attempts: job.attemptsMade, failedAt: job.finishedOn ?? Date.now(), error: describeError(err).slice(0, 500) };
    Promise.resolve(rt.onFailedForGood?.(failure)).catch((e) => log.error({ err: describeError(e) }, 'could not report a failed job'));
  });
  return worker;
}
