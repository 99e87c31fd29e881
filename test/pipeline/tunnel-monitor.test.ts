// Heartbeats stop: the monitor marks the session LOST within the grace period and the ticket hears of it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mailsTo, startHarness, type Harness } from './helpers/pipeline-harness.js';
import { waitFor } from './helpers/wait.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl'), env: { TETHER_LOST_GRACE_MS: '1000', TETHER_HEARTBEAT_FLUSH_MS: '200' }, tuning: { monitorEveryMs: 250 } });
});
afterAll(async () => {
  await h?.close();
});

/** The first word after "Tether" of each comment on a ticket: key, connected, lost, reconnected, closed. */
const commentsOn = (ticketId: string) => h.comments.comments.filter((c) => c.ticket.id === ticketId).map((c) => /^Tether (\w+)/.exec(c.body)?.[1]);

async function issueForTicket(ticketId: string, serial: string, email: string) {
  await h.producers.keyIssue({ serial, product: 'sma', version: '10.1', ttlMs: 3_600_000, ticket: { system: 'generic', id: ticketId }, email, actor: 'test' });
  await waitFor(() => mailsTo(h, email, /^Tether key/).length === 1, { label: 'key mail' });
  // Comments are posted concurrently; waiting keeps this test's order of events deterministic.
  await waitFor(() => commentsOn(ticketId).includes('key'), { label: 'key-sent comment' });
  return (await h.sessions.list()).find((s) => s.serial === serial)!;
}

describe('tunnel monitor', () => {
  it('a tunnel whose heartbeats stop goes LOST within the grace period and the ticket hears of it; a reconnect brings it back', async () => {
    const quiet = await issueForTicket('9001', 'SN-QUIET', 'quiet@customer.example');
    const busy = await issueForTicket('9002', 'SN-BUSY', 'busy@customer.example');
    await h.sessions.activate(quiet.id, randomBytes(32), { actor: 'relay', relayId: 'r1', now: Date.now() });
    await h.sessions.activate(busy.id, randomBytes(32), { actor: 'relay', relayId: 'r1', now: Date.now() });
    const lastBeat = Date.now();
    // The busy tunnel keeps sending heartbeats (as a relay's batch flush would); the quiet one stops.
    const beat = setInterval(() => void h.sessions.touch([busy.id], Date.now()), 200);
    try {
      await waitFor(() => mailsTo(h, 'quiet@customer.example', /^Tether connected/).length === 1, { label: 'connected mail' });
      const lost = await waitFor(async () => {
        const s = await h.sessions.get(quiet.id);
        return s?.state === 'LOST' ? s : null;
      }, { label: 'LOST', timeoutMs: 3_000, intervalMs: 20 });
      expect(Date.now() - lastBeat).toBeLessThan(1_000 + 250 + 500);
      expect(lost.state).toBe('LOST');
      await waitFor(() => commentsOn('9001').includes('lost'), { label: 'lost comment' });
      expect((await h.sessions.get(busy.id))!.state).toBe('CONNECTED');

      await h.sessions.apply(quiet.id, 'connect', { actor: 'relay', relayId: 'r2', now: Date.now() });
      await waitFor(() => commentsOn('9001').includes('reconnected'), { label: 'reconnected comment' });
      expect(commentsOn('9001')).toEqual(['key', 'connected', 'lost', 'reconnected']);
      expect(commentsOn('9002')).toEqual(['key', 'connected']);
      expect((await h.sessions.get(busy.id))!.state).toBe('CONNECTED');
    } finally {
      clearInterval(beat);
    }
  });
});
