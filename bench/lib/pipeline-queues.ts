// Reads the pipeline's BullMQ queues from outside (no workers here): job counts per state, and a
// wait until nothing is waiting or running, so that one phase's backlog does not load the next.
import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE, QUEUE_NAMES, type QueueName } from '../../queues/queue-names.js';
import { bullPrefix } from '../../shared/store/redis-keys.js';
import { percentile } from './stats.js';

export type QueueCounts = Record<QueueName, Record<string, number>>;

/** Completed jobs of one queue created in a time window: time waiting for a worker, time running. */
export interface StageTimes {
  jobs: number;
  waitP50: number;
  waitP99: number;
  runP50: number;
  runP99: number;
}

export class QueueWatch {
  private readonly queues: Map<QueueName, Queue>;

  constructor(redis: Redis, prefix: string) {
    this.queues = new Map(
      QUEUE_NAMES.map((name) => {
        const q = new Queue(name, { connection: redis, prefix: bullPrefix(prefix) });
        q.on('error', () => undefined);
        return [name, q] as const;
      }),
    );
  }

  async counts(...states: JobType[]): Promise<QueueCounts> {
    const out = {} as QueueCounts;
    const wanted: JobType[] = states.length ? states : ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'];
    for (const [name, q] of this.queues) out[name] = await q.getJobCounts(...wanted);
    return out;
  }

  /** Wait (created → active) and run (active → finished) of the completed jobs created in [from, to] (epoch ms). */
  async stageTimes(name: QueueName, from: number, to: number): Promise<StageTimes> {
    const q = this.queues.get(name) as Queue;
    const jobs = (await q.getJobs(['completed'], 0, -1)).filter((j) => j.timestamp >= from && j.timestamp <= to && j.processedOn && j.finishedOn);
    const wait = jobs.map((j) => (j.processedOn as number) - j.timestamp);
    const run = jobs.map((j) => (j.finishedOn as number) - (j.processedOn as number));
    return { jobs: jobs.length, waitP50: percentile(wait, 50), waitP99: percentile(wait, 99), runP50: percentile(run, 50), runP99: percentile(run, 99) };
  }

  /** Jobs held over all queues in any state but the monitor's sweeps (completed jobs are kept a week, so this counts jobs added). */
  async jobsTotal(): Promise<number> {
    let n = 0;
    for (const [name, q] of this.queues) {
      if (name === QUEUE.tunnelMonitor) continue;
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed');
      n += Object.values(c).reduce((a, b) => a + b, 0);
    }
    return n;
  }

  /** busy() calls so far, so that a caller can take their Redis commands out of a count. */
  polls = 0;

  /** Jobs waiting or running over all queues (delayed ones, e.g. expiry jobs days ahead, excluded). */
  async busy(): Promise<number> {
    this.polls++;
    let n = 0;
    for (const q of this.queues.values()) {
      const c = await q.getJobCounts('waiting', 'active', 'prioritized');
      n += (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0);
    }
    return n;
  }

  /** Resolves once busy() is 0 twice in a row 200 ms apart; false after `timeoutMs`. */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (Date.now() < deadline) {
      quiet = (await this.busy()) === 0 ? quiet + 1 : 0;
      if (quiet >= 2) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
