// Jobs that fail for good (refused comment, old payload shape) reach the failed set, the audit stream and operators.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { JOB, QUEUE } from '../../queues/queue-names.js';
import { mailsTo, startHarness, type Harness } from './helpers/pipeline-harness.js';
import { waitFor } from './helpers/wait.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl') });
});
afterAll(async () => {
  await h?.close();
});

const OPERATOR = 'tether@vendor.example';

/** The job as stored once it is in the failed set (read after the state, so not a stale copy). */
async function failedJob(id: string) {
  const queue = h.producers.queue(QUEUE.ticketSync);
  await waitFor(async () => (await queue.getJobState(id)) === 'failed', { label: `job ${id} failed` });
  return (await queue.getJob(id))!;
}

describe('jobs that fail for good', () => {
  it('a comment the help desk refuses for good lands in the failed set, in the audit stream and in the operators\' mailbox', async () => {
    h.comments.failNext(1, 400);
    const jobId = await h.producers.ticketComment({ system: 'generic', id: '1234' }, 'Tether test comment', 'test-refused-comment');
    const job = await failedJob(jobId);
    expect(job.attemptsMade).toBe(1); // a 400 is not retried
    expect(job.failedReason).toMatch(/help desk answered 400/);
    const entry = await waitFor(async () => (await h.audit.list()).find((e) => e.type === 'job.failed' && e.fields.jobId === jobId), { label: 'audit entry' });
    expect(entry.fields).toMatchObject({ queue: 'ticket-sync', jobName: 'ticket-comment', attempts: '1' });
    const [mail] = await waitFor(() => {
      const m = mailsTo(h, OPERATOR, /ticket-sync job failed for good/);
      return m.length ? m : null;
    }, { label: 'operator mail' });
    expect(mail!.text).toMatch(/help desk answered 400/);

    // An operator retries it (the queue board's retry); it fails for good again: a second notice.
    h.comments.failNext(1, 400);
    await job.retry();
    await waitFor(async () => (await h.audit.list()).filter((e) => e.type === 'job.failed' && e.fields.jobId === jobId).length === 2, { label: 'second audit entry' });
    await waitFor(() => mailsTo(h, OPERATOR, /ticket-sync job failed for good/).length === 2, { label: 'second operator mail' });
  });

  it('job data of another schema version is refused without retries and reported', async () => {
    const queue = h.producers.queue(QUEUE.ticketSync);
    const job = await queue.add(JOB.ticketComment, { v: 2, ticket: { system: 'generic', id: '1' }, comment: 'text' }, { jobId: 'test-old-shape' });
    const failed = await failedJob(job.id!);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/does not match the ticket-comment v1 schema/);
    await waitFor(() => mailsTo(h, OPERATOR, /ticket-sync job failed for good/).length === 3, { label: 'operator mail' });
  });

  it('producers refuse payloads that do not match the schema before anything is queued', async () => {
    await expect(h.producers.keyDelivery('short')).rejects.toThrow();
    await expect(h.producers.notification({ template: 'connected', to: ['not-an-address'], sid: 'sid-00000001' }, 'x')).rejects.toThrow();
    expect(await h.producers.queue(QUEUE.keyDelivery).getJob('kd-short')).toBeUndefined();
  });
});
