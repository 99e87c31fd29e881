// Each vendor help desk's webhook over real HTTP: a correctly signed delivery shaped as the vendor
// sends it provisions a tether (key mail, internal note of the documented shape); a wrong or missing
// signature, a replayed delivery id and a ticket without a serial are refused or ignored with a
// logged reason and nothing queued.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApiServer } from '../../api/api-server.js';
import { createLogger } from '../../shared/logger.js';
import { pipelineKeys } from '../../shared/store/redis-keys.js';
import { FRESHDESK_DEDUPE_TTL_S } from '../../ticketing/freshdesk/freshdesk-webhook.js';
import { waitFor } from '../pipeline/helpers/wait.js';
import { startTicketingHarness, type TicketingHarness } from './helpers/ticketing-harness.js';
import { gitHubDelivery, VENDOR_CASES, type TicketFacts } from './helpers/vendor-cases.js';

let h: TicketingHarness;

beforeAll(async () => {
  h = await startTicketingHarness({ redisUrl: inject('redisUrl') });
});
afterAll(async () => {
  await h?.close();
});

describe.each(VENDOR_CASES.map((c, i) => ({ c, base: 5_000 + i * 100 })))('$c.system webhook', ({ c, base }) => {
  const ticket = (n: number): TicketFacts => ({ seed: base + n, serial: `SN-${c.system.toUpperCase()}-${n}`, email: `it-${c.system}-${n}@customer.example` });
  const loggedReason = (msg: string, reason: string) => h.logs.some((l) => l.msg === msg && l.system === c.system && l.reason === reason);

  it('a correctly signed delivery provisions a tether: 202, a key mail to the requester, an internal note on the ticket', async () => {
    const t = ticket(1);
    const r = await h.post(c.system, c.delivery('open', t));
    expect(r).toMatchObject({ status: 202, json: { status: 'queued' } });
    await waitFor(() => h.mails.find((m) => m.envelopeTo.includes(t.email) && /^Tether key for appliance/.test(m.subject)), { label: 'key mail' });
    const session = (await h.sessions.list()).find((s) => s.serial === t.serial)!;
    expect(session.ticket).toEqual({ system: c.system, id: c.ref(t.seed) });
    expect(session.email).toBe(t.email);
    const api = h.apis[c.system];
    const note = await waitFor(() => api.accepted.find((q) => c.isComment(q) && c.commentOf(q).target === c.target(t.seed)), { label: 'comment on the ticket' });
    expect(c.commentOf(note).text).toMatch(new RegExp(`^Tether key for appliance ${t.serial} \\(SMA 13\\.2\\) sent to ${t.email.replace(/\./g, '\\.')}`));
    expect(api.violations).toEqual([]);
  });

  it('refuses a delivery signed with another secret with 401, logs the reason and queues nothing', async () => {
    const before = await h.ticketEventJobs();
    const r = await h.post(c.system, c.forge(c.delivery('open', ticket(2))));
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('unauthorized');
    expect(r.json.error.message).toMatch(/^bad (signature|token)$/);
    expect(loggedReason('webhook refused', r.json.error.message)).toBe(true);
    expect(await h.ticketEventJobs()).toBe(before);
  });

  it('refuses a delivery without its signature header with 401 naming the header', async () => {
    const before = await h.ticketEventJobs();
    const r = await h.post(c.system, c.unsign(c.delivery('open', ticket(3))));
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(/^missing X-[\w-]+ header$/);
    expect(loggedReason('webhook refused', r.json.error.message)).toBe(true);
    expect(await h.ticketEventJobs()).toBe(before);
  });

  it('answers a replayed delivery id with 200 duplicate and queues it once', async () => {
    const before = await h.ticketEventJobs();
    const open = c.delivery('open', ticket(4), `replay-${c.system}-4`);
    expect((await h.post(c.system, open)).status).toBe(202);
    const again = await h.post(c.system, open);
    expect(again).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    expect(await h.ticketEventJobs()).toBe(before + 1);
  });

  it('ignores a ticket without an appliance serial with 200, a logged reason and nothing queued', async () => {
    const before = await h.ticketEventJobs();
    const r = await h.post(c.system, c.delivery('no-serial', ticket(5)));
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('ignored');
    expect(r.json.reason).toMatch(/has no appliance serial$/);
    expect(loggedReason('webhook ignored', r.json.reason)).toBe(true);
    expect(await h.ticketEventJobs()).toBe(before);
  });
});

describe('vendor route', () => {
  it('answers 404 for a help desk that is not configured, and leaves the generic route to itself', async () => {
    const r = await fetch(`${h.apiUrl}/v1/webhooks/kace`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: { code: 'not_found', message: 'no help desk "kace" is configured' } });
    const generic = await fetch(`${h.apiUrl}/v1/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    // The generic adapter, without TETHER_WEBHOOK_SECRET, refuses everything.
    expect(generic.status).toBe(401);
  });
});

describe('GitHub issue form with an empty required field', () => {
  it('answers 200 ignored and comments on the issue, once per delivery, naming the missing field', async () => {
    const c = VENDOR_CASES.find((v) => v.system === 'github')!;
    const t: TicketFacts = { seed: 9_901, serial: 'SN-GH-EMPTY', email: 'it-gh-empty@customer.example' };
    const d = gitHubDelivery(t, 'opened', (issue) => void (issue.body = String(issue.body).replace(t.serial, '_No response_')), 'gh-empty-serial-1');
    const before = await h.ticketEventJobs();
    const r = await h.post('github', d);
    expect(r).toMatchObject({ status: 200, json: { status: 'ignored' } });
    expect(await h.ticketEventJobs()).toBe(before);
    const api = h.apis.github;
    const note = await waitFor(() => api.accepted.find((q) => c.isComment(q) && c.commentOf(q).target === c.target(t.seed)), { label: 'comment on the issue' });
    expect(c.commentOf(note).text).toMatch(/no Serial number/);
    expect((await h.post('github', d)).status).toBe(200);
    await new Promise((r2) => setTimeout(r2, 300));
    expect(api.accepted.filter((q) => c.isComment(q) && c.commentOf(q).target === c.target(t.seed))).toHaveLength(1);
  });
});

describe('Freshdesk delivery ids (ticket and body digest, remembered three hours)', () => {
  it('a byte-identical close accepted again after its id expired (resolved again after a reopen) is queued and tears the new session down', async () => {
    const c = VENDOR_CASES.find((v) => v.system === 'freshdesk')!;
    const t: TicketFacts = { seed: 9_801, serial: 'SN-FD-AGAIN', email: 'it-fd-again@customer.example' };
    let clock = Date.UTC(2026, 11, 6, 9, 0, 0);
    const app = await buildApiServer({ config: h.config, redis: h.redis, prefix: h.prefix, logger: createLogger('fd-clock', 'silent'), now: () => clock });
    const post = async (body: Buffer, headers: Record<string, string>) => {
      const r = await app.inject({ method: 'POST', url: '/v1/webhooks/freshdesk', headers, payload: body });
      return { status: r.statusCode, json: r.json() as { status: string; id: string } };
    };
    const liveSession = () => h.sessions.list().then((all) => all.find((s) => s.serial === t.serial && s.state !== 'CLOSED'));
    try {
      const open = c.delivery('open', t);
      expect((await post(open.body, open.headers)).status).toBe(202);
      const first = await waitFor(liveSession, { label: 'first session' });
      const keyMails = () => h.mails.filter((m) => m.envelopeTo.includes(t.email) && /^Tether key for appliance/.test(m.subject)).length;
      await waitFor(() => keyMails() === 1, { label: 'first key mail' });
      const closed = c.delivery('closed', t);
      const close1 = await post(closed.body, closed.headers);
      expect(close1).toMatchObject({ status: 202, json: { status: 'queued' } });
      await waitFor(async () => (await h.sessions.require(first.id)).state === 'CLOSED', { label: 'first close' });
      // Reopened a day later (another rendering of the rule: another id), provisioned again. A reopen
      // is an update: a create after the close would be a stale retry, and is ignored.
      clock += 86_400_000;
      const reopen = c.delivery('open', t, 'reopened');
      const reopenBody = Buffer.from(JSON.stringify({ ...JSON.parse(reopen.body.toString()), event: 'updated' }));
      expect((await post(reopenBody, reopen.headers)).status).toBe(202);
      const second = await waitFor(async () => {
        const s = await liveSession();
        return s && s.id !== first.id ? s : undefined;
      }, { label: 'second session' });
      await waitFor(() => keyMails() === 2, { label: 'second key mail' });
      // Resolved again: the same bytes as the first close, its id long expired.
      await h.redis.del(pipelineKeys(h.prefix).webhookDelivery('freshdesk', close1.json.id));
      clock += FRESHDESK_DEDUPE_TTL_S * 1000;
      const before = await h.ticketEventJobs();
      expect(await post(closed.body, closed.headers)).toMatchObject({ status: 202, json: { status: 'queued', id: close1.json.id } });
      expect(await h.ticketEventJobs()).toBe(before + 1);
      await waitFor(async () => (await h.sessions.require(second.id)).state === 'CLOSED', { label: 'second close' });
      expect((await h.sessions.require(second.id)).reason).toBe('ticket_closed');
      // A retry of it within the three hours is still a duplicate.
      expect(await post(closed.body, closed.headers)).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    } finally {
      await app.close();
    }
  });
});
