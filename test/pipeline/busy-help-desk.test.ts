// A help desk that says how long to wait (GitHub's secondary rate limit: at least a minute) gets
// that wait: the job moves to the delayed set for the stated time, and it is not a failed attempt.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { JOB, QUEUE } from '../../queues/queue-names.js';
import { bullPrefix } from '../../shared/store/redis-keys.js';
import { createLogger } from '../../shared/logger.js';
import { HelpDeskBusyError } from '../../ticketing/vendor-http.js';
import { buildWorker } from '../../workers/worker-kit.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';
import { waitFor } from './helpers/wait.js';

const prefix = randomPrefix();
let connection: Redis;
let queue: Queue;

beforeAll(() => {
  connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE.ticketSync, { connection, prefix: bullPrefix(prefix) });
});
afterAll(async () => {
  await queue.close();
  await deletePrefix(connection, prefix);
  connection.disconnect();
});

describe('a busy help desk', () => {
  it('delays the job by the wait the help desk asked for, without counting a failed attempt', async () => {
    let calls = 0;
    const worker = buildWorker(
      JOB.ticketComment,
      async () => {
        calls += 1;
        throw new HelpDeskBusyError('github answered 403 to POST /repos/o/r/issues/1/comments', 60_000);
      },
      { connection, prefix, logger: createLogger('busy-test', 'silent') },
    );
    try {
      const t0 = Date.now();
      const job = await queue.add(JOB.ticketComment, { v: 1, ticket: { system: 'github', id: 'o/r#1' }, comment: { body: 'hello', internal: true } }, { jobId: 'busy-1', attempts: 5 });
      await waitFor(async () => (await queue.getJobState(job.id!)) === 'delayed' && calls === 1, { label: 'delayed' });
      const stored = (await queue.getJob(job.id!))!;
      expect(stored.attemptsMade).toBe(0);
      expect(stored.timestamp + stored.delay).toBeGreaterThanOrEqual(t0 + 59_000);
      expect(calls).toBe(1);
    } finally {
      await worker.close();
    }
  });
});
