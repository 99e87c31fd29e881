// Reads the pipeline's BullMQ queues from outside (no workers here): job counts per state, and a
// wait until nothing is waiting or running, so that one phase's backlog does not load the next.
import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, bullPrefix, type QueueName } from '../../queues/queue-names.js';

export type QueueCounts = Record<QueueName, Record<string, number>>;

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

  /** Jobs waiting or running over all queues (delayed ones, e.g. expiry jobs days ahead, excluded). */
  async busy(): Promise<number> {
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
