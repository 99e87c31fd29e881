// A private redis-server shut down with save and restarted under live sessions: nothing lost, expiry fires.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE } from '../../queues/queue-names.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { mailsTo, postWebhook, startHarness, webhookBody, type Harness } from './helpers/pipeline-harness.js';
import { waitFor } from './helpers/wait.js';

let redis: RedisServerHandle;
let h: Harness;

beforeAll(async () => {
  redis = await startRedisServer();
  h = await startHarness({ redisUrl: redis.url, env: { TETHER_WARN_OFFSETS: '3s' }, tuning: { ticketKeyTtlMs: 9_000 } });
}, 20_000);
afterAll(async () => {
  await h?.close().catch(() => undefined);
  await redis?.stop();
});

async function expiryJobsOf(sids: string[]): Promise<string[]> {
  const jobs = await h.producers.queue(QUEUE.expiry).getJobs(['delayed', 'waiting', 'active', 'completed']);
  return jobs.filter((j) => sids.includes(j.data?.sid)).map((j) => j.id!).sort();
}

describe('Redis restart', () => {
  it('shutdown with save and start again while sessions are live and expiry jobs pending: nothing is lost, expiry still fires', async () => {
    for (const [i, serial] of ['SN-RR-1', 'SN-RR-2'].entries()) {
      await postWebhook(h.apiUrl, webhookBody({ id: `evt-rr-${i}`, ticketId: `99${i}`, serial, email: `rr${i}@customer.example` }));
    }
    await waitFor(() => mailsTo(h, 'rr0@customer.example', /^Tether key/).length + mailsTo(h, 'rr1@customer.example', /^Tether key/).length === 2, { label: 'key mails' });
    const before = (await h.sessions.list()).filter((s) => s.serial.startsWith('SN-RR-'));
    expect(before).toHaveLength(2);
    const sids = before.map((s) => s.id);
    const [one] = before;
    await h.sessions.activate(one!.id, randomBytes(32), { actor: 'relay', now: Date.now() });
    const jobsBefore = await waitFor(async () => {
      const ids = await expiryJobsOf(sids);
      return ids.length === 2 ? ids : null; // the next step of each: its warning (which then plans the expiry)
    }, { label: 'expiry planned' });
    const auditBefore = (await h.audit.list()).map((e) => e.id);

    await redis.shutdown();
    // A ticket arriving while Redis is down waits in the client's offline queue, it is not dropped.
    const during = postWebhook(h.apiUrl, webhookBody({ id: 'evt-rr-during', ticketId: '9950', serial: 'SN-RR-3', email: 'rr3@customer.example' }));
    await new Promise((r) => setTimeout(r, 500));
    await redis.restart();

    expect((await during).status).toBe(202);
    await waitFor(async () => (await fetch(`${h.apiUrl}/healthz`)).status === 200, { label: 'healthy again' });
    const after = await Promise.all(sids.map((id) => h.sessions.get(id)));
    expect(after.map((s) => s && { id: s.id, state: s.state, expiresAt: s.expiresAt })).toEqual(
      before.map((s) => ({ id: s.id, state: s.id === one!.id ? 'CONNECTED' : 'ISSUED', expiresAt: s.expiresAt })),
    );
    const auditAfter = (await h.audit.list()).map((e) => e.id);
    expect(auditAfter.slice(0, auditBefore.length)).toEqual(auditBefore);
    expect(await expiryJobsOf(sids)).toEqual(jobsBefore);

    await waitFor(() => mailsTo(h, 'rr3@customer.example', /^Tether key/).length === 1, { label: 'key mail for the ticket sent during the outage', timeoutMs: 10_000 });
    for (const s of before) {
      const closed = await waitFor(async () => {
        const x = await h.sessions.get(s.id);
        return x?.state === 'CLOSED' ? x : null;
      }, { label: `expiry of ${s.serial}`, timeoutMs: 15_000 });
      expect(closed.reason).toBe('expired');
      expect(closed.closedAt! - s.expiresAt).toBeLessThan(1_000);
    }
    await waitFor(() => mailsTo(h, 'rr0@customer.example', /^Tether closed/).length === 1 && mailsTo(h, 'rr1@customer.example', /^Tether closed/).length === 1, { label: 'closed mails' });
    expect(mailsTo(h, 'rr0@customer.example', /expires soon$/).length + mailsTo(h, 'rr1@customer.example', /expires soon$/).length).toBe(2);
  }, 40_000);
});
