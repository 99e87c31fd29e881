// SMTP down while a key mail is due: retried with backoff, delivered exactly once when SMTP is back.
import { describe, expect, it } from 'vitest';
import { jobIds } from '../../queues/job-ids.js';
import { QUEUE } from '../../queues/queue-names.js';
import { mailsTo, postWebhook, webhookBody } from './helpers/pipeline-harness.js';
import { usePipelineHarness } from './helpers/pipeline-fixture.js';
import { settle, waitFor } from './helpers/wait.js';

const h = usePipelineHarness();

describe('SMTP outage', () => {
  it('retries the key mail with backoff while SMTP is down and delivers it once when it is back', async () => {
    await h.smtp.close();
    expect((await postWebhook(h.apiUrl, webhookBody({ id: 'evt-smtp-down', ticketId: '6001', serial: 'SN-SMTP', email: 'smtp@customer.example' }))).status).toBe(202);
    const session = await waitFor(async () => (await h.sessions.list()).find((s) => s.serial === 'SN-SMTP'), { label: 'session' });
    // The key-issue job mails the key it minted; its retries adopt that session (one key, not one per attempt).
    const keyJobs = h.producers.queue(QUEUE.keyIssue);
    const keyJobId = jobIds.keyIssue({ system: 'generic', id: '6001' }, 'SN-SMTP');
    // At least two failed attempts, each pushed back by the exponential backoff (not lost, not failed for good).
    const job = await waitFor(async () => {
      const j = await keyJobs.getJob(keyJobId);
      return j && j.attemptsMade >= 2 ? j : null;
    }, { label: 'two failed delivery attempts', timeoutMs: 15_000 });
    expect(['delayed', 'waiting', 'active']).toContain(await job.getState());
    expect(job.failedReason).toMatch(/mail not sent/);
    expect(mailsTo(h, 'smtp@customer.example', /Tether key/)).toHaveLength(0);

    await h.smtp.start();
    await waitFor(() => mailsTo(h, 'smtp@customer.example', /^Tether key/).length === 1, { label: 'key mail after SMTP is back', timeoutMs: 15_000 });
    await waitFor(async () => (await keyJobs.getJob(keyJobId))?.finishedOn, { label: 'key job completed' });
    await settle(1_000);
    expect(mailsTo(h, 'smtp@customer.example', /^Tether key/)).toHaveLength(1);
    expect(await (await keyJobs.getJob(keyJobId))!.getState()).toBe('completed');
    expect((await h.sessions.list()).filter((s) => s.serial === 'SN-SMTP').map((s) => s.id)).toEqual([session.id]);
    // Retries are not failures: operators were not told of any job failing for good.
    expect(mailsTo(h, 'tether@vendor.example', /failed for good/)).toHaveLength(0);
  });
});
