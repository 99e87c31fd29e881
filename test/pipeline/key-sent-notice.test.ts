// The support mailbox's "key sent" notice is opt-in (TETHER_KEY_SENT_NOTICE): off by default (no job,
// no mail), one notice per key when on. Real Redis, SMTP capture and comment server.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { QUEUE } from '../../queues/queue-names.js';
import { mailsTo, postWebhook, startHarness, webhookBody, type Harness } from './helpers/pipeline-harness.js';
import { settle, waitFor } from './helpers/wait.js';

const OPERATOR = 'tether@vendor.example';
const started: Harness[] = [];
afterAll(async () => {
  for (const h of started) await h.close();
});

async function provision(h: Harness, ticketId: string, serial: string, email: string) {
  expect((await postWebhook(h.apiUrl, webhookBody({ id: `evt-ks-${ticketId}`, ticketId, serial, email }))).status).toBe(202);
  await waitFor(() => mailsTo(h, email, /^Tether key/).length === 1, { label: 'key mail' });
  await waitFor(() => h.comments.comments.find((c) => c.ticket.id === ticketId && /sent to/.test(c.body)), { label: 'key-sent comment' });
}

describe('key-sent notice', () => {
  it('is off by default: the key mail and the ticket comment go out, the support mailbox hears nothing and no notice job is queued', async () => {
    const h = await startHarness({ redisUrl: inject('redisUrl') });
    started.push(h);
    expect(h.config.keySentNotice).toBe(false);
    await provision(h, '9101', 'SN-KS-OFF', 'ks-off@customer.example');
    await settle(500);
    expect(mailsTo(h, OPERATOR, /^\[tether\] Key for/)).toHaveLength(0);
    expect(await h.producers.queue(QUEUE.notifications).getJobCounts('completed', 'waiting', 'active', 'delayed')).toEqual({ completed: 0, waiting: 0, active: 0, delayed: 0 });
  });

  it('TETHER_KEY_SENT_NOTICE=on mails the support mailbox once per key sent', async () => {
    const h = await startHarness({ redisUrl: inject('redisUrl'), env: { TETHER_KEY_SENT_NOTICE: 'on' } });
    started.push(h);
    await provision(h, '9102', 'SN-KS-ON', 'ks-on@customer.example');
    await waitFor(() => mailsTo(h, OPERATOR, /^\[tether\] Key for SN-KS-ON sent/).length === 1, { label: 'key-sent notice' });
    await settle(500);
    expect(mailsTo(h, OPERATOR, /^\[tether\] Key for SN-KS-ON sent/)).toHaveLength(1);
  });
});
