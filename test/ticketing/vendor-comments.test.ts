// Each vendor help desk's outbound side over real HTTP: a 429 with Retry-After is waited out and
// the comment lands once; a burst of connected / lost / reconnected becomes one comment; a solved
// or closed ticket tears its tether down (CLOSED, ticket_closed) and says so on the ticket.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { settle, waitFor } from '../pipeline/helpers/wait.js';
import { startTicketingHarness, type TicketingHarness } from './helpers/ticketing-harness.js';
import { VENDOR_CASES, type TicketFacts, type VendorCase } from './helpers/vendor-cases.js';

let h: TicketingHarness;

beforeAll(async () => {
  h = await startTicketingHarness({ redisUrl: inject('redisUrl') });
});
afterAll(async () => {
  await h?.close();
});

function commentsOn(c: VendorCase, seed: number) {
  return h.apis[c.system].requests.filter((q) => c.isComment(q) && c.commentOf(q).target === c.target(seed));
}

function acceptedOn(c: VendorCase, seed: number): string[] {
  return h.apis[c.system].accepted.filter((q) => c.isComment(q) && c.commentOf(q).target === c.target(seed)).map((q) => c.commentOf(q).text);
}

async function provision(c: VendorCase, t: TicketFacts) {
  expect((await h.post(c.system, c.delivery('open', t))).status).toBe(202);
  await waitFor(() => acceptedOn(c, t.seed).some((b) => b.startsWith('Tether key for appliance')), { label: 'key-sent comment' });
  return (await h.sessions.list()).find((s) => s.serial === t.serial)!;
}

describe.each(VENDOR_CASES.map((c, i) => ({ c, base: 6_000 + i * 100 })))('$c.system comments', ({ c, base }) => {
  const ticket = (n: number): TicketFacts => ({ seed: base + n, serial: `SN-${c.system.toUpperCase()}-C${n}`, email: `ops-${c.system}-${n}@customer.example` });

  it('waits out a 429 with Retry-After before trying again, and the comment lands once', async () => {
    const t = ticket(1);
    h.apis[c.system].script({ match: (q) => c.isComment(q) && c.commentOf(q).target === c.target(t.seed), status: 429, headers: { 'Retry-After': '1' }, body: { error: 'rate limited' } });
    await provision(c, t);
    const tries = commentsOn(c, t.seed);
    expect(tries).toHaveLength(2);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(990);
    expect(acceptedOn(c, t.seed)).toHaveLength(1);
    expect(h.apis[c.system].violations).toEqual([]);
  });

  it('collapses a burst of connected, lost and reconnected into one comment', async () => {
    const t = ticket(2);
    const session = await provision(c, t);
    const now = Date.now();
    await h.sessions.activate(session.id, randomBytes(32), { actor: 'relay', relayId: 'r1', now });
    await h.sessions.apply(session.id, 'lose', { actor: 'monitor', now: now + 1 });
    await h.sessions.apply(session.id, 'connect', { actor: 'relay', relayId: 'r2', now: now + 2 });
    const burst = await waitFor(() => acceptedOn(c, t.seed).find((b) => b.startsWith('Tether connected')), { label: 'burst comment' });
    expect(burst.split('\n\n').map((p) => /^Tether (\w+)/.exec(p)?.[1])).toEqual(['connected', 'lost', 'reconnected']);
    await settle(1_500); // longer than the burst window: nothing else may follow
    expect(acceptedOn(c, t.seed)).toHaveLength(2);
  });

  it('a solved or closed ticket tears its tether down and says so on the ticket', async () => {
    const t = ticket(3);
    const session = await provision(c, t);
    const r = await h.post(c.system, c.delivery('closed', t));
    expect(r).toMatchObject({ status: 202, json: { status: 'queued' } });
    const closed = await waitFor(async () => {
      const s = await h.sessions.get(session.id);
      return s?.state === 'CLOSED' ? s : null;
    }, { label: 'session closed' });
    expect(closed.reason).toBe('ticket_closed');
    await waitFor(() => acceptedOn(c, t.seed).find((b) => /^Tether closed .* because the support ticket was closed/.test(b)), { label: 'closed comment' });
    expect(h.apis[c.system].violations).toEqual([]);
  });
});
