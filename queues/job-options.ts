// Default job options per queue: retries with exponential backoff, completed jobs kept for a
// while (so deterministic ids keep deduplicating), failed jobs kept until an operator clears them.
import type { DefaultJobOptions } from 'bullmq';
import { QUEUE, type QueueName } from './queue-names.js';

export interface RetryPolicy {
  /** First backoff delay; doubles with every attempt. */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { backoffMs: 1_000 };

const ATTEMPTS: Record<QueueName, number> = {
  [QUEUE.ticketEvents]: 8,
  // key-issue mails the key it minted: ~1 s doubling over 12 attempts rides out an SMTP outage of about an hour.
  [QUEUE.keyIssue]: 12,
  [QUEUE.keyDelivery]: 12,
  [QUEUE.notifications]: 10,
  [QUEUE.ticketSync]: 10,
  [QUEUE.expiry]: 10,
  // The next sweep comes anyway.
  [QUEUE.tunnelMonitor]: 1,
};

const WEEK_S = 7 * 86_400;

export function defaultJobOptions(queue: QueueName, retry: RetryPolicy = DEFAULT_RETRY): DefaultJobOptions {
  return {
    attempts: ATTEMPTS[queue],
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: queue === QUEUE.tunnelMonitor ? { count: 100 } : { age: WEEK_S, count: 50_000 },
    removeOnFail: false,
  };
}
