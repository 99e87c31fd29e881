// Teardown by ticket closure and by operator revoke: CLOSED with the reason, relays told, ticket comment, mail.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jobIds } from '../../queues/job-ids.js';
import { QUEUE, QUEUE_NAMES } from '../../queues/queue-names.js';
import { parseSessionEvent } from '../../shared/store/session-events.js';
import { ADMIN_TOKEN, mailsTo, postWebhook, startHarness, webhookBody, type Harness } from './helpers/pipeline-harness.js';
import { settle, waitFor } from './helpers/wait.js';
import { STALE_CREATE } from '../../workers/ticket-events.worker.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl') });
});
afterAll(async () => {
  await h?.close();
});

async function provision(ticketId: string, serial: string, email: string) {
  expect((await postWebhook(h.apiUrl, webhookBody({ id: `evt-open-${ticketId}`, ticketId, serial, email }))).status).toBe(202);
  await waitFor(() => mailsTo(h, email, /^Tether key/).length === 1, { label: 'key mail' });
  return (await h.sessions.list()).find((s) => s.serial === serial)!;
}

/** The return value of a ticket-events job, once it finished. */
async function ticketEventResult(harness: Harness, deliveryId: string): Promise<unknown> {
  const job = await waitFor(async () => {
    const j = await harness.producers.queue(QUEUE.ticketEvents).getJob(jobIds.ticketEvent('generic', deliveryId));
    return j?.finishedOn ? j : null;
  }, { label: `ticket event ${deliveryId} finished` });
  return job.returnvalue;
}

async function pendingExpiryJobs(sid: string): Promise<number> {
  const jobs = await h.producers.queue(QUEUE.expiry).getJobs(['delayed', 'waiting']);
  return jobs.filter((j) => j.data?.sid === sid).length;
}

describe('teardown', () => {
  it('a closed ticket closes its session within a second, orders the relays, comments on the ticket and mails the customer', async () => {
    const session = await provision('7001', 'SN-CLOSE', 'close@customer.example');
    await waitFor(async () => (await pendingExpiryJobs(session.id)) > 0, { label: 'expiry planned' });
    const sub = new Redis(inject('redisUrl'));
    const closedEvents: string[] = [];
    await sub.subscribe(h.sessions.keys.events);
    sub.on('message', (_c, m) => {
      const e = parseSessionEvent(m);
      if (e?.sid === session.id && e.to === 'CLOSED') closedEvents.push(e.reason ?? '');
    });

    const sentAt = Date.now();
    const r = await postWebhook(h.apiUrl, webhookBody({ id: 'evt-close-7001', type: 'ticket.closed', ticketId: '7001', serial: 'SN-CLOSE', email: 'close@customer.example' }));
    expect(r.status).toBe(202);
    const closed = await waitFor(async () => {
      const s = await h.sessions.get(session.id);
      return s?.state === 'CLOSED' ? s : null;
    }, { label: 'session closed', timeoutMs: 2_000 });
    expect(closed.reason).toBe('ticket_closed');
    expect(closed.closedAt! - sentAt).toBeLessThan(1_000);
    await waitFor(() => closedEvents.length === 1, { label: 'CLOSED on the events channel' });
    expect(closedEvents).toEqual(['ticket_closed']);
    sub.disconnect();

    const [mail] = await waitFor(() => {
      const m = mailsTo(h, 'close@customer.example', /^Tether closed/);
      return m.length ? m : null;
    }, { label: 'closed mail' });
    expect(mail!.text).toMatch(/because the support ticket was closed/);
    await waitFor(() => h.comments.comments.find((c) => c.ticket.id === '7001' && /^Tether closed .* the support ticket was closed/.test(c.body)), { label: 'closed comment' });
    await waitFor(async () => (await pendingExpiryJobs(session.id)) === 0, { label: 'expiry jobs removed' });
    expect(h.comments.violations).toEqual([]);
  });

  it('a closed ticket whose serial field was edited since issue still closes the session issued for it, and leaves no index behind', async () => {
    const session = await provision('7004', 'SN-EDIT-A', 'edit@customer.example');
    const r = await postWebhook(h.apiUrl, webhookBody({ id: 'evt-close-7004', type: 'ticket.closed', ticketId: '7004', serial: 'SN-EDIT-B', email: 'edit@customer.example' }));
    expect(r.status).toBe(202);
    const closed = await waitFor(async () => {
      const s = await h.sessions.get(session.id);
      return s?.state === 'CLOSED' ? s : null;
    }, { label: 'session closed', timeoutMs: 3_000 });
    expect(closed.reason).toBe('ticket_closed');
    expect(await h.redis.exists(h.sessions.keys.ticketSessions('generic', '7004'))).toBe(0);
    await waitFor(() => mailsTo(h, 'edit@customer.example', /^Tether closed/).length === 1, { label: 'closed mail' });
  });

  it('a revoke through the operator API takes the same path: closed, comment, mail with the reason', async () => {
    const session = await provision('7002', 'SN-REVOKE', 'revoke@customer.example');
    const res = await fetch(`${h.apiUrl}/v1/sessions/${session.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    await waitFor(() => mailsTo(h, 'revoke@customer.example', /^Tether closed/).length === 1, { label: 'closed mail' });
    expect(mailsTo(h, 'revoke@customer.example', /^Tether closed/)[0]!.text).toMatch(/because support revoked the access/);
    await waitFor(() => h.comments.comments.find((c) => c.ticket.id === '7002' && /support revoked the access/.test(c.body)), { label: 'revoke comment' });
  });

  it('a comment the help desk refuses for a while is retried until it lands', async () => {
    h.comments.failNext(2, 503);
    await provision('7003', 'SN-HELPDESK', 'helpdesk@customer.example');
    const comment = await waitFor(() => h.comments.comments.find((c) => c.ticket.id === '7003'), { label: 'comment after retries', timeoutMs: 10_000 });
    expect(comment.body).toMatch(/sent to helpdesk@customer\.example/);
  });

  it('a create delivered after its ticket\'s close (the help desk retried it later) is stale: no key is minted or mailed', async () => {
    const email = 'late-create@customer.example';
    // The create's first delivery failed; the close went through; then the help desk retried the create.
    expect((await postWebhook(h.apiUrl, webhookBody({ id: 'evt-close-7005', type: 'ticket.closed', ticketId: '7005', serial: 'SN-LATE', email }))).status).toBe(202);
    expect(await ticketEventResult(h, 'evt-close-7005')).toMatchObject({ action: 'ignore' });
    expect((await postWebhook(h.apiUrl, webhookBody({ id: 'evt-open-7005', ticketId: '7005', serial: 'SN-LATE', email }))).status).toBe(202);
    expect(await ticketEventResult(h, 'evt-open-7005')).toEqual({ action: 'ignore', why: STALE_CREATE });
    await settle(500);
    expect((await h.sessions.list()).filter((s) => s.serial === 'SN-LATE')).toEqual([]);
    expect(await h.producers.queue(QUEUE.keyIssue).getJob(jobIds.keyIssue({ system: 'generic', id: '7005' }, 'SN-LATE'))).toBeUndefined();
    expect(mailsTo(h, email, /^Tether key/)).toHaveLength(0);
  });
});

describe('teardown of key requests not started yet', () => {
  let q: Harness;
  beforeAll(async () => {
    // No key-issue worker: the ticket's key request stays pending until the close.
    q = await startHarness({ redisUrl: inject('redisUrl'), tuning: { queues: QUEUE_NAMES.filter((n) => n !== QUEUE.keyIssue) } });
  });
  afterAll(async () => {
    await q?.close();
  });

  it('a closed ticket cancels the pending key request of a serial it no longer names (the serial field was edited)', async () => {
    const ticket = { system: 'generic', id: '7006' };
    const email = 'edited-pending@customer.example';
    expect((await postWebhook(q.apiUrl, webhookBody({ id: 'evt-open-7006', ticketId: '7006', serial: 'SN-PEND-A', email }))).status).toBe(202);
    expect(await ticketEventResult(q, 'evt-open-7006')).toEqual({ action: 'provision' });
    const pending = await q.producers.queue(QUEUE.keyIssue).getJob(jobIds.keyIssue(ticket, 'SN-PEND-A'));
    expect(await pending?.getState()).toBe('waiting');
    expect((await postWebhook(q.apiUrl, webhookBody({ id: 'evt-close-7006', type: 'ticket.closed', ticketId: '7006', serial: 'SN-PEND-B', email }))).status).toBe(202);
    await ticketEventResult(q, 'evt-close-7006');
    expect(await q.producers.queue(QUEUE.keyIssue).getJob(jobIds.keyIssue(ticket, 'SN-PEND-A'))).toBeUndefined();
  });
});
