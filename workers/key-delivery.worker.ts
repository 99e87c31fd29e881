// key-delivery: mails the key to the session's requester. One mail per session and channel even
// when retried: the delivery record is written (with the key text's removal) right after the SMTP
// server's 250, and a run that finds it sends nothing. Only a crash or Redis failure between that
// 250 and the record sends the mail again, with the same Message-ID `<{sid}.key@{domain}>`.
import type { Worker } from 'bullmq';
import { jobIds } from '../queues/job-ids.js';
import type { JobData } from '../queues/job-schemas.js';
import type { KeyTextStore } from '../queues/key-text.store.js';
import type { Producers } from '../queues/producers.js';
import { JOB } from '../queues/queue-names.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { renderKeyMail } from '../shared/mail/key-mail.template.js';
import type { Mailer } from '../shared/mail/mailer.js';
import { messageIdOf } from '../shared/mail/message-id.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { ticketComments } from './ticket-comments.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export interface KeyDeliveryDeps {
  sessions: SessionStore;
  keyTexts: KeyTextStore;
  producers: Producers;
  mailer: Mailer;
  now: () => number;
  logger: Logger;
  /** Domain for deterministic Message-IDs (mailDomainOf(TETHER_MAIL_FROM)). */
  mailDomain: string;
  /** Support mailbox told of every key sent; none when undefined. */
  operatorEmail?: string | undefined;
}

export type KeyDeliveryResult = 'sent' | 'already_delivered' | 'session_closed';

/** Follow-ups carry deterministic ids, so running them again after a crash adds nothing. */
async function announce(session: SessionRecord, deps: KeyDeliveryDeps): Promise<void> {
  if (session.ticket) await deps.producers.ticketComment(session.ticket, ticketComments.keySent(session), jobIds.keySentComment(session.id), session.id);
  if (deps.operatorEmail) {
    await deps.producers.notification({ template: 'key_sent', to: [deps.operatorEmail], sid: session.id }, jobIds.keySentNotice(session.id));
  }
}

export async function processKeyDelivery(data: JobData<typeof JOB.keyDelivery>, deps: KeyDeliveryDeps): Promise<KeyDeliveryResult> {
  const session = await deps.sessions.require(data.sid);
  if (await deps.keyTexts.isDelivered(session.id, data.channel)) {
    await announce(session, deps);
    return 'already_delivered';
  }
  if (session.state === 'CLOSED') {
    await deps.keyTexts.forget(session.id);
    return 'session_closed';
  }
  if (!session.email) throw new AppError('usage', `session ${session.id} has no recipient address`);
  const key = await deps.keyTexts.get(session.id);
  if (key === null) throw new AppError('internal', `key text of session ${session.id} is gone; issue a new key`);
  const mail = renderKeyMail({
    serial: session.serial,
    product: session.product,
    version: session.version,
    key,
    issuedAt: session.issuedAt,
    expiresAt: session.expiresAt,
    now: deps.now(),
    ticket: session.ticket,
  });
  await deps.mailer.send({ to: [session.email], ...mail, messageId: messageIdOf({ ref: session.id, template: 'key' }, deps.mailDomain), template: 'key' });
  // Nothing may come between the 250 and this write: every await in between widens the window.
  await deps.keyTexts.recordDelivered(session.id, data.channel, session.expiresAt, deps.now());
  deps.logger.info({ sid: session.id, serial: session.serial }, 'key mail accepted by the SMTP server');
  await announce(session, deps);
  return 'sent';
}

export function createKeyDeliveryWorker(deps: KeyDeliveryDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.keyDelivery, (data) => processKeyDelivery(data, deps), rt);
}
