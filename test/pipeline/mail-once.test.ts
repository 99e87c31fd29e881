// One mail per session and template (real Redis, real SMTP capture): a re-run finds the send record
// and sends nothing; a repeat forced through the crash window carries the same Message-ID.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jobIds } from '../../queues/job-ids.js';
import type { JobData } from '../../queues/job-schemas.js';
import { keyTextSecretFrom, RedisKeyTextStore } from '../../queues/redis-key-text.store.js';
import { pipelineKeys } from '../../shared/store/redis-keys.js';
import { JOB, QUEUE } from '../../queues/queue-names.js';
import { SentMailStore } from '../../queues/sent-mail.store.js';
import { createLogger } from '../../shared/logger.js';
import type { Mailer } from '../../shared/mail/mailer.js';
import { parseMail } from '../../shared/mail/mail-parse.js';
import { mailDomainOf, mailIdentityKey } from '../../shared/mail/message-id.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { processKeyDelivery, type KeyDeliveryDeps } from '../../workers/key-delivery.worker.js';
import { processNotification, type NotificationsDeps } from '../../workers/notifications.worker.js';
import { RELAY } from './helpers/relay-endpoint.js';
import { mailsTo, startHarness, type Harness, type Mail } from './helpers/pipeline-harness.js';
import { waitFor } from './helpers/wait.js';

let h: Harness;
let keyTexts: RedisKeyTextStore;
let keyDeps: KeyDeliveryDeps;
let noticeDeps: NotificationsDeps;
const logger = createLogger('mail-once-test', 'silent');

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl'), workers: false });
  keyTexts = new RedisKeyTextStore(h.redis, h.prefix, keyTextSecretFrom(h.signingKey.privateKey));
  const mailDomain = mailDomainOf(h.config.mailFrom);
  keyDeps = { sessions: h.sessions, keyTexts, producers: h.producers, mailer: h.mailer, now: Date.now, logger, mailDomain };
  noticeDeps = { sessions: h.sessions, mailer: h.mailer, now: Date.now, logger, mailDomain, sentMails: new SentMailStore(h.redis, h.prefix) };
});
afterAll(async () => {
  await h?.close();
});

/** A minted key whose text waits for delivery, as key-issue leaves it. */
async function keyWaitingForDelivery(serial: string, email: string) {
  const issued = await issueKey(
    { serial, product: 'sma', version: '10.1', ttlMs: 3_600_000, email, actor: 'test' },
    { sessions: h.sessions, signingKey: h.signingKey, relay: RELAY, now: Date.now },
  );
  await keyTexts.put(issued.session.id, issued.key, issued.session.expiresAt, Date.now());
  return issued.session;
}

/** The Message-ID as stored in the captured .eml on disk, not as the harness parsed it on arrival. */
const storedMessageId = (m: Mail) => parseMail(readFileSync(m.file)).messageId;
const keyMails = (to: string) => mailsTo(h, to, /^Tether key for appliance/);

describe('one key mail per session', () => {
  it('running the key-delivery job twice for one session sends one mail: the second run finds the send record', async () => {
    const session = await keyWaitingForDelivery('SN-ONCE-1', 'once@customer.example');
    expect(await processKeyDelivery({ v: 1, sid: session.id, channel: 'email' }, keyDeps)).toBe('sent');
    // Recorded and the key text destroyed together, before the job could be acknowledged.
    expect(await h.redis.exists(pipelineKeys(h.prefix).delivered(session.id, 'email'))).toBe(1);
    expect(await h.redis.exists(pipelineKeys(h.prefix).keyText(session.id))).toBe(0);
    expect(await processKeyDelivery({ v: 1, sid: session.id, channel: 'email' }, keyDeps)).toBe('already_delivered');
    expect(keyMails('once@customer.example')).toHaveLength(1);
    expect(storedMessageId(keyMails('once@customer.example')[0]!)).toBe(`<${session.id}.key@vendor.example>`);
  });

  it('a key-delivery job queued again after it completed returns already_delivered from the real worker and sends nothing', async () => {
    const session = await keyWaitingForDelivery('SN-ONCE-2', 'rerun@customer.example');
    const workers = await h.startWorkers({ queues: [QUEUE.keyDelivery], bridge: false, operatorEmail: null });
    try {
      const deliveries = h.producers.queue(QUEUE.keyDelivery);
      const finished = async () => {
        const job = await deliveries.getJob(jobIds.keyDelivery(session.id));
        return job?.finishedOn ? job : null;
      };
      await h.producers.keyDelivery(session.id);
      expect((await waitFor(finished, { label: 'first run' })).returnvalue).toBe('sent');
      await (await deliveries.getJob(jobIds.keyDelivery(session.id)))!.remove();
      await h.producers.keyDelivery(session.id);
      expect((await waitFor(finished, { label: 'second run' })).returnvalue).toBe('already_delivered');
      expect(keyMails('rerun@customer.example')).toHaveLength(1);
    } finally {
      await workers.close();
    }
  });

  it('a crash between the SMTP server’s 250 and the record repeats the mail with the same deterministic Message-ID', async () => {
    const session = await keyWaitingForDelivery('SN-ONCE-3', 'twice@customer.example');
    // Our own Mailer, delegating to the real one: the server accepts, then the process "dies".
    const dyingAfter250: Mailer = {
      async send(mail) {
        await h.mailer.send(mail);
        throw new Error('process killed after the 250');
      },
      close() {},
    };
    await expect(processKeyDelivery({ v: 1, sid: session.id, channel: 'email' }, { ...keyDeps, mailer: dyingAfter250 })).rejects.toThrow(/killed/);
    expect(await keyTexts.isDelivered(session.id)).toBe(false);
    expect(await processKeyDelivery({ v: 1, sid: session.id, channel: 'email' }, keyDeps)).toBe('sent');
    expect(await processKeyDelivery({ v: 1, sid: session.id, channel: 'email' }, keyDeps)).toBe('already_delivered');
    const mails = keyMails('twice@customer.example');
    expect(mails).toHaveLength(2);
    expect(mails.map(storedMessageId)).toEqual([`<${session.id}.key@vendor.example>`, `<${session.id}.key@vendor.example>`]);
  });

  it('a delivery marker written before markers named their channel still counts as delivered', async () => {
    const session = await keyWaitingForDelivery('SN-ONCE-4', 'legacy@customer.example');
    await h.redis.set(pipelineKeys(h.prefix).legacyDelivered(session.id), String(Date.now()), 'PX', 60_000);
    expect(await processKeyDelivery({ v: 1, sid: session.id, channel: 'email' }, keyDeps)).toBe('already_delivered');
    expect(keyMails('legacy@customer.example')).toHaveLength(0);
  });
});

describe('notification mails', () => {
  const ctx = { jobId: 'unused', attemptsMade: 0 };
  const only = (to: string, subject: RegExp) => {
    const found = mailsTo(h, to, subject);
    expect(found).toHaveLength(1);
    return storedMessageId(found[0]!);
  };

  it('every notice carries a deterministic Message-ID of session and template, and a re-run sends nothing', async () => {
    const session = await keyWaitingForDelivery('SN-NOTICE-1', 'notice@customer.example');
    const sid = session.id;
    const to = ['notice@customer.example'];
    expect(await processNotification({ v: 1, template: 'key_sent', to: ['ops@vendor.example'], sid }, ctx, noticeDeps)).toBe('sent');
    expect(await processNotification({ v: 1, template: 'connected', to, sid }, ctx, noticeDeps)).toBe('sent');
    for (const offsetMs of [1_800_000, 600_000]) {
      expect(await processNotification({ v: 1, template: 'expiring_soon', to, sid, expiresAt: session.expiresAt, offsetMs }, ctx, noticeDeps)).toBe('sent');
    }
    const failed: JobData<typeof JOB.notification> = { v: 1, template: 'job_failed', to: ['ops@vendor.example'], queue: QUEUE.keyDelivery, jobId: `kd-${sid}`, jobName: 'key-delivery', attempts: 12, error: 'x' };
    expect(await processNotification(failed, ctx, noticeDeps)).toBe('sent');
    await h.sessions.close(sid, 'revoked', 'test', Date.now());
    expect(await processNotification({ v: 1, template: 'closed', to, sid }, ctx, noticeDeps)).toBe('sent');

    // Run again (a job re-run after a crash): every one finds its record.
    expect(await processNotification({ v: 1, template: 'connected', to, sid }, ctx, noticeDeps)).toBe('already_sent');
    expect(await processNotification({ v: 1, template: 'closed', to, sid }, ctx, noticeDeps)).toBe('already_sent');
    expect(await processNotification(failed, ctx, noticeDeps)).toBe('already_sent');

    expect(only('ops@vendor.example', /^\[tether\] Key for SN-NOTICE-1 sent/)).toBe(`<${sid}.key_sent@vendor.example>`);
    expect(only('notice@customer.example', /^Tether connected/)).toBe(`<${sid}.connected@vendor.example>`);
    expect(only('notice@customer.example', /^Tether closed/)).toBe(`<${sid}.closed@vendor.example>`);
    expect(only('ops@vendor.example', /job failed for good/)).toBe(`<${jobIds.jobFailed(QUEUE.keyDelivery, `kd-${sid}`)}.job_failed.12@vendor.example>`);
    // Two warnings for one expiry are two mails: the offset is part of the identity.
    const warnings = mailsTo(h, 'notice@customer.example', /expires soon/).map(storedMessageId);
    expect(warnings).toEqual([1_800_000, 600_000].map((o) => `<${sid}.expiring_soon.${session.expiresAt}-${o}@vendor.example>`));
  });

  it('a notice forced out twice (its record lost) carries the same Message-ID both times', async () => {
    const session = await keyWaitingForDelivery('SN-NOTICE-2', 'again@customer.example');
    const data: JobData<typeof JOB.notification> = { v: 1, template: 'connected', to: ['again@customer.example'], sid: session.id };
    expect(await processNotification(data, ctx, noticeDeps)).toBe('sent');
    await h.redis.del(pipelineKeys(h.prefix).sentMail(mailIdentityKey({ ref: session.id, template: 'connected' })));
    expect(await processNotification(data, ctx, noticeDeps)).toBe('sent');
    const ids = mailsTo(h, 'again@customer.example', /^Tether connected/).map(storedMessageId);
    expect(ids).toEqual([`<${session.id}.connected@vendor.example>`, `<${session.id}.connected@vendor.example>`]);
  });
});
