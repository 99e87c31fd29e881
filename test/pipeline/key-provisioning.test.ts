// Signed webhook to key mail, end to end in one process (real Redis, SMTP capture, comment server):
// one key and one mail per ticket whatever the duplicates, no key text in job data, CLI path.
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisClosedTickets } from '../../queues/closed-ticket.store.js';
import { jobIds } from '../../queues/job-ids.js';
import { handOverKeyForDelivery } from '../../queues/key-handover.js';
import { QUEUE, QUEUE_NAMES } from '../../queues/queue-names.js';
import { keyTextSecretFrom, RedisKeyTextStore } from '../../queues/redis-key-text.store.js';
import { bullPrefix, pipelineKeys } from '../../shared/store/redis-keys.js';
import { verifyKey } from '../../shared/key/key-codec.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { keyFromMailText } from '../../shared/mail/mail-parse.js';
import { createLogger } from '../../shared/logger.js';
import { mailDomainOf } from '../../shared/mail/message-id.js';
import { issueKey, newId } from '../../shared/session/issue-key.js';
import type { SessionStore } from '../../shared/store/session.store.js';
import { createKeyIssueWorker } from '../../workers/key-issue.worker.js';
import { RELAY } from './helpers/relay-endpoint.js';
import { mailsTo, postWebhook, startHarness, webhookBody, type Harness } from './helpers/pipeline-harness.js';
import { settle, waitFor } from './helpers/wait.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl') });
});
afterAll(async () => {
  await h?.close();
});

const keyMails = (to: string) => mailsTo(h, to, /^Tether key for appliance/);

async function sessionsOf(serial: string) {
  return (await h.sessions.list()).filter((s) => s.serial === serial);
}

describe('ticket webhook to key mail', () => {
  it('a signed webhook for a new ticket tagged tether sends exactly one key mail with a valid key and the SMA 10.1 steps', async () => {
    const r = await postWebhook(h.apiUrl, webhookBody({ id: 'evt-prov-1', ticketId: '4711', serial: 'K1000-5F3A9C', email: 'it-ops@customer.example' }));
    expect(r.status).toBe(202);
    const [mail] = await waitFor(() => (keyMails('it-ops@customer.example').length ? keyMails('it-ops@customer.example') : null), { label: 'key mail' });
    expect(mail!.subject).toBe('Tether key for appliance K1000-5F3A9C (ticket 4711)');
    expect(mail!.text).toContain('Go to Settings > Support > Troubleshooting Tools.');
    expect(mail!.html).toContain('Settings › Support › Troubleshooting Tools');
    // SMA 10.1 predates one-click: no self-initiation paragraph.
    expect(mail!.text).not.toContain('start a tether by itself');
    // The key stands on its own lines in the raw mail, exactly as the customer copies it.
    const key = keyFromMailText(mail!.text!);
    expect(key).toBeDefined();
    const signers = trustedSignersFromPem(h.signingKey.publicPem);
    const payload = verifyKey(key!, { signers, serial: 'k1000-5f3a9c' });
    const [session] = await sessionsOf('K1000-5F3A9C');
    expect(session).toMatchObject({ id: payload.sid, state: 'ISSUED', ticket: { system: 'generic', id: '4711' }, email: 'it-ops@customer.example', version: '10.1' });
    expect(payload.ports).toEqual([22, 80, 443, 3306]);
    expect(mail!.messageId).toBe(`<${session!.id}.key@vendor.example>`);
    // The ticket hears that the key went out, through a correctly signed comment.
    await waitFor(() => h.comments.comments.find((c) => c.ticket.id === '4711' && /key .* sent to it-ops@customer\.example/.test(c.body)), { label: 'key-sent comment' });
    expect(h.comments.violations).toEqual([]);
  });

  it('keeps the key text out of job data and drops it from Redis once delivered', async () => {
    const [session] = await sessionsOf('K1000-5F3A9C');
    expect(await h.redis.exists(pipelineKeys(h.prefix).keyText(session!.id))).toBe(0);
    expect(await h.redis.exists(pipelineKeys(h.prefix).delivered(session!.id, 'email'))).toBe(1);
    let cursor = '0';
    const leaks: string[] = [];
    do {
      const [next, keys] = await h.redis.scan(cursor, 'MATCH', `${bullPrefix(h.prefix)}:*`, 'COUNT', 500);
      cursor = next;
      for (const k of keys) {
        if ((await h.redis.type(k)) !== 'hash') continue;
        const data = await h.redis.hget(k, 'data');
        if (data?.includes('KT1.')) leaks.push(k);
      }
    } while (cursor !== '0');
    expect(leaks).toEqual([]);
  });

  it('the same webhook delivered twice sends one mail and mints one key', async () => {
    const body = webhookBody({ id: 'evt-twice', ticketId: '5001', serial: 'SN-TWICE', email: 'twice@customer.example' });
    expect((await postWebhook(h.apiUrl, body)).status).toBe(202);
    expect((await postWebhook(h.apiUrl, body)).status).toBe(200);
    await waitFor(() => keyMails('twice@customer.example').length === 1, { label: 'key mail' });
    await settle(1_000);
    expect(keyMails('twice@customer.example')).toHaveLength(1);
    expect(await sessionsOf('SN-TWICE')).toHaveLength(1);
  });

  it('the same webhook delivered 50 times at once is queued once and sends one mail', async () => {
    const body = webhookBody({ id: 'evt-burst', ticketId: '5002', serial: 'SN-BURST', email: 'burst@customer.example' });
    const results = await Promise.all(Array.from({ length: 50 }, () => postWebhook(h.apiUrl, body)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200 && r.json.status === 'duplicate')).toHaveLength(49);
    await waitFor(() => keyMails('burst@customer.example').length === 1, { label: 'key mail' });
    await settle(1_000);
    expect(keyMails('burst@customer.example')).toHaveLength(1);
    expect(await sessionsOf('SN-BURST')).toHaveLength(1);
  });

  it('50 different deliveries for one ticket (created, updated, ...) still mint one key', async () => {
    const bodies = Array.from({ length: 50 }, (_, i) =>
      webhookBody({ id: `evt-many-${i}`, type: i === 0 ? 'ticket.created' : 'ticket.updated', ticketId: '5003', serial: 'SN-MANY', email: 'many@customer.example' }),
    );
    const results = await Promise.all(bodies.map((b) => postWebhook(h.apiUrl, b)));
    expect(results.every((r) => r.status === 202)).toBe(true);
    await waitFor(() => keyMails('many@customer.example').length === 1, { label: 'key mail' });
    await settle(1_500);
    expect(keyMails('many@customer.example')).toHaveLength(1);
    expect(await sessionsOf('SN-MANY')).toHaveLength(1);
  });

  it('a ticket without the tether tag is ignored', async () => {
    expect((await postWebhook(h.apiUrl, webhookBody({ id: 'evt-notag', ticketId: '5004', serial: 'SN-NOTAG', tags: ['printer'], email: 'notag@customer.example' }))).status).toBe(202);
    await settle(1_000);
    expect(await sessionsOf('SN-NOTAG')).toHaveLength(0);
    expect(keyMails('notag@customer.example')).toHaveLength(0);
  });

  it('an SDA 6.1 customer gets the Support > Tether steps and is told the appliance can self-initiate', async () => {
    await postWebhook(h.apiUrl, webhookBody({ id: 'evt-sda', ticketId: '5005', serial: 'SDA-0042', product: 'sda', version: '6.1.55', email: 'sda@customer.example' }));
    const [mail] = await waitFor(() => (keyMails('sda@customer.example').length ? keyMails('sda@customer.example') : null), { label: 'key mail' });
    expect(mail!.text).toContain('Go to Support > Tether.');
    expect(mail!.text).toMatch(/Your SDA 6\.1\.55 can also start a tether by itself/);
    const payload = verifyKey(keyFromMailText(mail!.text!)!, { signers: trustedSignersFromPem(h.signingKey.publicPem) });
    expect(payload.ports).toEqual([22, 80, 443]);
  });

  it('a key the operator CLI minted (tether key issue --email) takes the same delivery path', async () => {
    const issued = await issueKey(
      { serial: 'SN-CLI-1', product: 'sma', version: '11.0', ttlMs: 2 * 3_600_000, email: 'cli@customer.example', actor: 'operator' },
      { sessions: h.sessions, signingKey: h.signingKey, relay: RELAY, now: Date.now },
    );
    const keyTexts = new RedisKeyTextStore(h.redis, h.prefix, keyTextSecretFrom(h.signingKey.privateKey));
    await handOverKeyForDelivery({ keyTexts, producers: h.producers, now: Date.now }, issued);
    const [mail] = await waitFor(() => (keyMails('cli@customer.example').length ? keyMails('cli@customer.example') : null), { label: 'key mail' });
    expect(keyFromMailText(mail!.text!)).toBe(issued.key);
    expect(mail!.subject).toBe('Tether key for appliance SN-CLI-1');
    expect(mail!.text).toMatch(/Your SMA 11\.0 can also start a tether by itself/);
    expect(mail!.text).toMatch(/valid for 2 hours/);
  });

  const WEEK = 7 * 86_400_000;
  async function finishedKeyJob(ticketId: string, serial: string) {
    const jobId = jobIds.keyIssue({ system: 'generic', id: ticketId }, serial);
    const job = await waitFor(async () => {
      const j = await h.producers.queue(QUEUE.keyIssue).getJob(jobId);
      return j?.finishedOn ? j : null;
    }, { label: 'key-issue job finished' });
    return job.returnvalue as { sid: string; adopted: boolean; mail: string };
  }

  it('a key-issue job that finds the ticket\'s live session minted elsewhere (no key text: one-click, an operator key handed over by phone) adopts it, connected or not, and mails nothing', async () => {
    for (const [ticketId, serial, connect] of [['6001', 'SN-ADOPT-ON', true], ['6002', 'SN-ADOPT-ISSUED', false]] as const) {
      const ticket = { system: 'generic', id: ticketId };
      const op = await issueKey({ serial, product: 'sma', ttlMs: WEEK, ticket, actor: 'alice' }, { sessions: h.sessions, signingKey: h.signingKey, relay: RELAY, now: Date.now });
      if (connect) await h.sessions.activate(op.session.id, Buffer.alloc(32, 7), { actor: 'relay', now: Date.now(), relayId: 'r1' });
      const email = `adopt-${ticketId}@customer.example`;
      await h.producers.keyIssue({ serial, product: 'sma', ttlMs: WEEK, ticket, email, actor: `ticket:generic:${ticketId}` });
      expect(await finishedKeyJob(ticketId, serial)).toEqual({ sid: op.session.id, adopted: true, mail: 'not_mailed' });
      const mine = await sessionsOf(serial);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ id: op.session.id, state: connect ? 'CONNECTED' : 'ISSUED' });
      await settle(300);
      expect(keyMails(email)).toHaveLength(0);
    }
  });

  it('a key-issue retry replaces the never-used session it noted before minting when its key text was lost', async () => {
    const ticket = { system: 'generic', id: '6003' };
    const serial = 'SN-ORPHAN';
    // What a job killed between minting and storing the key text leaves behind.
    const sid = newId();
    const keyTexts = new RedisKeyTextStore(h.redis, h.prefix, keyTextSecretFrom(h.signingKey.privateKey));
    await keyTexts.recordMinting(jobIds.keyIssue(ticket, serial), sid, Date.now() + WEEK, Date.now());
    await issueKey({ id: sid, serial, product: 'sma', ttlMs: WEEK, ticket, email: 'orphan@customer.example', actor: 'ticket:generic:6003' }, { sessions: h.sessions, signingKey: h.signingKey, relay: RELAY, now: Date.now });
    await h.producers.keyIssue({ serial, product: 'sma', ttlMs: WEEK, ticket, email: 'orphan@customer.example', actor: 'ticket:generic:6003' });
    const result = await finishedKeyJob('6003', serial);
    expect(result).toMatchObject({ adopted: false, mail: 'sent' });
    expect(result.sid).not.toBe(sid);
    expect(await h.sessions.require(sid)).toMatchObject({ state: 'CLOSED', reason: 'superseded' });
    expect(await h.sessions.require(result.sid)).toMatchObject({ state: 'ISSUED' });
    await waitFor(() => keyMails('orphan@customer.example').length === 1, { label: 'key mail' });
  });
});

describe('a ticket closed while its key-issue job runs', () => {
  // The harness runs every worker but key-issue; this file's key-issue worker is the real one, on a
  // session store that lets the test act at the moment the job mints (the job is ACTIVE then).
  let q: Harness;
  let bull: Redis;
  let worker: Worker;
  let atMint: (() => Promise<void>) | undefined;
  let atClose: (() => Promise<void>) | undefined;
  const WEEK = 7 * 86_400_000;

  beforeAll(async () => {
    q = await startHarness({ redisUrl: inject('redisUrl'), tuning: { queues: QUEUE_NAMES.filter((n) => n !== QUEUE.keyIssue) } });
    bull = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    // Each hook runs once, just before the job's call to the store method it is set for.
    const sessions = new Proxy(q.sessions, {
      get(target, prop) {
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const hook = prop === 'create' ? atMint : prop === 'close' ? atClose : undefined;
          if (prop === 'create') atMint = undefined;
          if (prop === 'close') atClose = undefined;
          await hook?.();
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as SessionStore;
    const logger = createLogger('key-issue-test', 'silent');
    worker = createKeyIssueWorker(
      {
        sessions,
        keyTexts: new RedisKeyTextStore(q.redis, q.prefix, keyTextSecretFrom(q.signingKey.privateKey)),
        closedTickets: new RedisClosedTickets(q.redis, q.prefix),
        producers: q.producers,
        signingKey: q.signingKey,
        relay: RELAY,
        mailer: q.mailer,
        now: Date.now,
        logger,
        mailDomain: mailDomainOf(q.config.mailFrom),
      },
      { connection: bull, prefix: q.prefix, logger },
    );
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
  });
  afterAll(async () => {
    await worker?.close();
    bull?.disconnect();
    await q?.close();
  });

  async function eventHandled(deliveryId: string, states: readonly string[]) {
    await waitFor(async () => {
      const j = await q.producers.queue(QUEUE.ticketEvents).getJob(jobIds.ticketEvent('generic', deliveryId));
      return j && states.includes(await j.getState());
    }, { label: `ticket event ${deliveryId} handled` });
  }
  async function keyJob(ticketId: string, serial: string) {
    return waitFor(async () => {
      const j = await q.producers.queue(QUEUE.keyIssue).getJob(jobIds.keyIssue({ system: 'generic', id: ticketId }, serial));
      return j?.finishedOn ? j : null;
    }, { label: 'key-issue job finished' });
  }
  const qKeyMails = (to: string) => mailsTo(q, to, /^Tether key for appliance/);
  const ofTicket = async (ticketId: string) => (await q.sessions.list()).filter((s) => s.ticket?.id === ticketId);

  it('a close handled while the job mints (after the close looked for sessions) closes the new session with ticket_closed and mails nothing', async () => {
    const email = 'close-mid-mint@customer.example';
    atMint = async () => {
      expect((await postWebhook(q.apiUrl, webhookBody({ id: 'evt-close-8001', type: 'ticket.closed', ticketId: '8001', serial: 'SN-MIDMINT', email }))).status).toBe(202);
      await eventHandled('evt-close-8001', ['completed']);
    };
    expect((await postWebhook(q.apiUrl, webhookBody({ id: 'evt-open-8001', ticketId: '8001', serial: 'SN-MIDMINT', email }))).status).toBe(202);
    const job = await keyJob('8001', 'SN-MIDMINT');
    expect(job.returnvalue).toMatchObject({ adopted: false, mail: 'ticket_closed' });
    const sessions = await ofTicket('8001');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ state: 'CLOSED', reason: 'ticket_closed' });
    expect(await q.redis.exists(pipelineKeys(q.prefix).keyText(sessions[0]!.id))).toBe(0);
    await settle(500);
    expect(qKeyMails(email)).toHaveLength(0);
  });

  it('a ticket closed while its job mints and reopened before that job ends still gets one live session and one key mail', async () => {
    const email = 'reopen-mid-mint@customer.example';
    atMint = async () => {
      expect((await postWebhook(q.apiUrl, webhookBody({ id: 'evt-close-8002', type: 'ticket.closed', ticketId: '8002', serial: 'SN-REOPEN', email }))).status).toBe(202);
      await eventHandled('evt-close-8002', ['completed']);
    };
    // When the job closes the session it minted for the closed ticket, it is still running: the
    // reopen's key request meets its job id and must not be lost.
    atClose = async () => {
      expect((await postWebhook(q.apiUrl, webhookBody({ id: 'evt-reopen-8002', type: 'ticket.updated', ticketId: '8002', serial: 'SN-REOPEN', email }))).status).toBe(202);
      await eventHandled('evt-reopen-8002', ['completed', 'delayed', 'failed']);
    };
    expect((await postWebhook(q.apiUrl, webhookBody({ id: 'evt-open-8002', ticketId: '8002', serial: 'SN-REOPEN', email }))).status).toBe(202);
    await waitFor(async () => (await ofTicket('8002')).some((s) => s.state === 'CLOSED'), { label: 'the session minted during the close closed' });
    await waitFor(() => qKeyMails(email).length === 1, { label: 'key mail after the reopen', timeoutMs: 15_000 });
    const sessions = await ofTicket('8002');
    expect(sessions.filter((s) => s.state !== 'CLOSED')).toHaveLength(1);
    expect(sessions.filter((s) => s.state === 'CLOSED').map((s) => s.reason)).toEqual(['ticket_closed']);
    await settle(500);
    expect(qKeyMails(email)).toHaveLength(1);
  });
});
