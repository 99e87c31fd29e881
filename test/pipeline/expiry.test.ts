// Expiry with short TTLs against real Redis and SMTP: the warning mail, the on-time close, and rescheduling on extend.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN, mailsTo, postWebhook, startHarness, webhookBody, type Harness } from './helpers/pipeline-harness.js';
import { waitFor } from './helpers/wait.js';
import { createLogger } from '../../shared/logger.js';
import { processExpiry } from '../../workers/expiry.worker.js';

let h: Harness;

beforeAll(async () => {
  // Keys for tickets live 4 s here, with one warning 2 s before expiry.
  h = await startHarness({ redisUrl: inject('redisUrl'), env: { TETHER_WARN_OFFSETS: '2s' }, tuning: { ticketKeyTtlMs: 4_000 } });
});
afterAll(async () => {
  await h?.close();
});

async function closedSession(sid: string, timeoutMs: number) {
  return waitFor(async () => {
    const s = await h.sessions.get(sid);
    return s?.state === 'CLOSED' ? s : null;
  }, { label: 'session closed', timeoutMs, intervalMs: 10 });
}

describe('expiry', () => {
  it('sends the warning before the deadline, then closes the session on time with a comment and an "expired" mail', async () => {
    await postWebhook(h.apiUrl, webhookBody({ id: 'evt-exp-1', ticketId: '8001', serial: 'SN-EXPIRE', email: 'expire@customer.example' }));
    await waitFor(() => mailsTo(h, 'expire@customer.example', /^Tether key/).length === 1, { label: 'key mail' });
    const session = (await h.sessions.list()).find((s) => s.serial === 'SN-EXPIRE')!;

    const warnings = await waitFor(() => {
      const m = mailsTo(h, 'expire@customer.example', /expires soon$/);
      return m.length ? m : null;
    }, { label: 'warning mail', timeoutMs: 5_000 });
    expect((await h.sessions.get(session.id))!.state).not.toBe('CLOSED');
    expect(Date.now()).toBeLessThan(session.expiresAt);
    expect(warnings[0]!.text!.replace(/\s+/g, ' ')).toMatch(/expires .* \(in (1|2) seconds?\)/);

    const closed = await closedSession(session.id, 6_000);
    expect(closed.reason).toBe('expired');
    expect(closed.closedAt!).toBeGreaterThanOrEqual(session.expiresAt);
    expect(closed.closedAt! - session.expiresAt).toBeLessThan(1_000);
    await waitFor(() => mailsTo(h, 'expire@customer.example', /^Tether closed/).length === 1, { label: 'expired mail' });
    expect(mailsTo(h, 'expire@customer.example', /^Tether closed/)[0]!.text).toMatch(/because the key reached its expiry time/);
    await waitFor(() => h.comments.comments.find((c) => c.ticket.id === '8001' && /the key reached its expiry time/.test(c.body)), { label: 'expired comment' });
    expect(mailsTo(h, 'expire@customer.example', /expires soon$/)).toHaveLength(1);
  });

  it('a session whose stored address no mail job accepts (an older record) still expires on time; the warning is skipped', async () => {
    await postWebhook(h.apiUrl, webhookBody({ id: 'evt-exp-3', ticketId: '8003', serial: 'SN-BADADDR', email: 'badaddr@customer.example' }));
    await waitFor(() => mailsTo(h, 'badaddr@customer.example', /^Tether key/).length === 1, { label: 'key mail' });
    const session = (await h.sessions.list()).find((s) => s.serial === 'SN-BADADDR')!;
    // As a record written before every edge checked addresses the same way.
    await h.redis.hset(h.sessions.keys.session(session.id), 'email', 'ops@localhost');
    const closed = await closedSession(session.id, 6_000);
    expect(closed.reason).toBe('expired');
    expect(closed.closedAt! - session.expiresAt).toBeLessThan(1_000);
    expect(mailsTo(h, 'ops@localhost', /./)).toHaveLength(0);
  });

  it("an extension landing between the expire job's read and its close wins: the session stays, the job reports stale", async () => {
    await postWebhook(h.apiUrl, webhookBody({ id: 'evt-exp-4', ticketId: '8004', serial: 'SN-RACE', email: 'race@customer.example' }));
    await waitFor(() => mailsTo(h, 'race@customer.example', /^Tether key/).length === 1, { label: 'key mail' });
    const session = (await h.sessions.list()).find((s) => s.serial === 'SN-RACE')!;
    const extendedTo = session.expiresAt + 60_000;
    // The job's read returns the record as it was; the operator's extension is stored right after it.
    const sessions = new Proxy(h.sessions, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop !== 'get') return typeof value === 'function' ? value.bind(target) : value;
        return async (id: string) => {
          const read = await target.get(id);
          await target.extend(id, extendedTo, 'test-operator', Date.now());
          return read;
        };
      },
    });
    const job = { v: 1 as const, sid: session.id, kind: 'expire' as const, expiresAt: session.expiresAt };
    const result = await processExpiry(job, { sessions, producers: h.producers, now: () => session.expiresAt + 5, logger: createLogger('expiry-race', 'silent'), warnOffsetsMs: [] });
    expect(result).toBe('stale');
    expect(await h.sessions.require(session.id)).toMatchObject({ state: 'ISSUED', expiresAt: extendedTo });
  });

  it('an extension reschedules: nothing happens at the old deadline, the session expires at the new one', async () => {
    await postWebhook(h.apiUrl, webhookBody({ id: 'evt-exp-2', ticketId: '8002', serial: 'SN-EXTEND', email: 'extend@customer.example' }));
    await waitFor(() => mailsTo(h, 'extend@customer.example', /^Tether key/).length === 1, { label: 'key mail' });
    const session = (await h.sessions.list()).find((s) => s.serial === 'SN-EXTEND')!;
    const res = await fetch(`${h.apiUrl}/v1/sessions/${session.id}/extend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: '7s' }),
    });
    expect(res.status).toBe(200);
    const newExpiry = Date.parse(((await res.json()) as { session: { expiresAt: string } }).session.expiresAt);
    expect(newExpiry).toBeGreaterThan(session.expiresAt + 2_000);

    await waitFor(() => Date.now() > session.expiresAt + 800, { label: 'old deadline passed', timeoutMs: 6_000 });
    expect((await h.sessions.get(session.id))!.state).toBe('ISSUED');
    const closed = await closedSession(session.id, 8_000);
    expect(closed.reason).toBe('expired');
    expect(closed.closedAt!).toBeGreaterThanOrEqual(newExpiry);
    expect(closed.closedAt! - newExpiry).toBeLessThan(1_000);
  });
});
