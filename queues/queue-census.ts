// Jobs per queue and state for the tether_queue_jobs gauge, read on scrape: one BullMQ
// getJobCounts (a single script call) per queue, on a duplicate of the caller's connection
// (bull-connection.ts). Reads within `maxAgeMs` of each other share one answer.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullConnectionFrom } from './bull-connection.js';
import { QUEUE_NAMES, type QueueName } from './queue-names.js';
import { bullPrefix } from '../shared/store/redis-keys.js';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

export interface QueueCount {
  queue: QueueName;
  state: (typeof STATES)[number];
  count: number;
}

export class QueueCensus {
  private readonly queues: Queue[];
  private readonly bull: Redis;
  private last: { at: number; rows: Promise<QueueCount[]> } | undefined;

  constructor(connection: Redis, prefix: string, private readonly opts: { now: () => number; maxAgeMs?: number }) {
    this.bull = bullConnectionFrom(connection);
    this.queues = QUEUE_NAMES.map((name) => {
      const q = new Queue(name, { connection: this.bull, prefix: bullPrefix(prefix) });
      q.on('error', () => undefined); // connection trouble surfaces on the caller's client
      return q;
    });
  }

  count(): Promise<QueueCount[]> {
    const now = this.opts.now();
    if (!this.last || now - this.last.at >= (this.opts.maxAgeMs ?? 5_000)) {
      const rows = this.read();
      this.last = { at: now, rows };
      rows.catch(() => (this.last = undefined));
    }
    return this.last.rows;
  }

  private async read(): Promise<QueueCount[]> {
    const perQueue = await Promise.all(
      this.queues.map(async (q) => {
        const counts = await q.getJobCounts(...STATES);
        return STATES.map((state) => ({ queue: q.name as QueueName, state, count: counts[state] ?? 0 }));
      }),
    );
    return perQueue.flat();
  }

  /** Closes the Queue objects and their connection; the caller's connection stays the caller's. */
  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
    this.bull.disconnect();
  }
}
