// Mails a minted key to its session's requester, at most once per session and channel: the
// delivery record is written (with the key text's removal) right after the SMTP server's 250, and a
// run that finds it sends nothing. Only a crash or Redis failure between that 250 and the record
// sends the mail again, with the same Message-ID `<{sid}.key@{domain}>`. Used by key-issue (which
// mails the key it just minted, in the same job) and key-delivery (keys the operator minted).
import { jobIds } from '../queues/job-ids.js';
import type { DeliveryChannel } from '../queues/job-schemas.js';
import type { KeyTextStore } from '../queues/key-text.store.js';
import type { Producers } from '../queues/producers.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { renderKeyMail } from '../shared/mail/key-mail.template.js';
import type { Mailer } from '../shared/mail/mailer.js';
import { messageIdOf } from '../shared/mail/message-id.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import { ticketComments } from './ticket-comments.js';

export interface KeyMailDeps {
  keyTexts: KeyTextStore;
  producers: Producers;
  mailer: Mailer;
  now: () => number;
  logger: Logger;
  /** Domain for deterministic Message-IDs (mailDomainOf(TETHER_MAIL_FROM)). */
  mailDomain: string;
  /** Support mailbox told of every key sent (TETHER_KEY_SENT_NOTICE=on); none when undefined. */
  keySentNoticeTo?: string | undefined;
}

export type KeyMailResult = 'sent' | 'already_delivered' | 'session_closed';

/** What the caller already knows, so that it is not read from Redis again. */
export interface KnownDelivery {
  delivered?: boolean;
  keyText?: string | null;
}

/** Follow-ups carry deterministic ids, so running them again after a crash adds nothing. */
async function announce(session: SessionRecord, deps: KeyMailDeps): Promise<void> {
  const follow: Promise<unknown>[] = [];
  if (session.ticket) follow.push(deps.producers.ticketComment(session.ticket, ticketComments.keySent(session), jobIds.keySentComment(session.id), session.id));
  if (deps.keySentNoticeTo) {
    follow.push(deps.producers.notification({ template: 'key_sent', to: [deps.keySentNoticeTo], sid: session.id }, jobIds.keySentNotice(session.id)));
  }
  await Promise.all(follow);
}

export async function mailKeyOnce(session: SessionRecord, channel: DeliveryChannel, deps: KeyMailDeps, known: KnownDelivery = {}): Promise<KeyMailResult> {
  if (known.delivered ?? (await deps.keyTexts.isDelivered(session.id, channel))) {
    await announce(session, deps);
    return 'already_delivered';
  }
  if (session.state === 'CLOSED') {
    await deps.keyTexts.forget(session.id);
    return 'session_closed';
  }
  if (!session.email) throw new AppError('usage', `session ${session.id} has no recipient address`);
  const key = known.keyText ?? (await deps.keyTexts.get(session.id));
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
  await deps.keyTexts.recordDelivered(session.id, channel, session.expiresAt, deps.now());
  deps.logger.info({ sid: session.id, serial: session.serial }, 'key mail accepted by the SMTP server');
  await announce(session, deps);
  return 'sent';
}
