// notifications: renders and mails one notice (key sent, connected, expiring soon, closed with the
// reason, a job failed for good). Notices about a session re-read it first and skip what no longer
// holds (no "connected" mail for a closed session, no warning for an expiry that moved). Each notice
// has a deterministic Message-ID and a send record, so a run after a crash does not mail it again.
import type { Worker } from 'bullmq';
import { jobIds } from '../queues/job-ids.js';
import type { JobData } from '../queues/job-schemas.js';
import { JOB } from '../queues/queue-names.js';
import type { SentMailStore } from '../queues/sent-mail.store.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { RenderedMail } from '../shared/mail/mail-format.js';
import type { Mailer } from '../shared/mail/mailer.js';
import { messageIdOf, type MailIdentity } from '../shared/mail/message-id.js';
import {
  renderClosedNotice,
  renderConnectedNotice,
  renderExpiringNotice,
  renderJobFailedNotice,
  renderKeySentNotice,
  type SessionFacts,
} from '../shared/mail/notice-mail.template.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { buildWorker, type JobContext, type WorkerRuntime } from './worker-kit.js';

export interface NotificationsDeps {
  sessions: SessionStore;
  mailer: Mailer;
  now: () => number;
  logger: Logger;
  /** Domain for deterministic Message-IDs (mailDomainOf(TETHER_MAIL_FROM)). */
  mailDomain: string;
  sentMails: SentMailStore;
}

type NotificationData = JobData<typeof JOB.notification>;
export type NotificationResult = 'sent' | 'skipped' | 'already_sent';

/** Who the notice is about and which one it is; `jobId` only names warnings queued without an offset. */
export function noticeIdentity(data: NotificationData, jobId: string): MailIdentity {
  switch (data.template) {
    case 'job_failed':
      // A job failing for good again (an operator's retry, a key request re-added under its id): a new notice.
      return { ref: jobIds.jobFailed(data.queue, data.jobId), template: data.template, variant: data.failedAt === undefined ? String(data.attempts) : `${data.attempts}-${data.failedAt}` };
    case 'expiring_soon':
      return { ref: data.sid, template: data.template, variant: data.offsetMs === undefined ? jobId : `${data.expiresAt}-${data.offsetMs}` };
    default:
      return { ref: data.sid, template: data.template };
  }
}

function facts(s: SessionRecord): SessionFacts {
  return { sid: s.id, serial: s.serial, product: s.product, version: s.version, expiresAt: s.expiresAt, email: s.email, ticket: s.ticket, reason: s.reason, closedAt: s.closedAt };
}

async function render(data: NotificationData, deps: NotificationsDeps): Promise<RenderedMail | null> {
  if (data.template === 'job_failed') return renderJobFailedNotice(data);
  const s = await deps.sessions.get(data.sid);
  if (!s) throw new AppError('session_not_found', `no session ${data.sid}`);
  const now = deps.now();
  switch (data.template) {
    case 'key_sent':
      return renderKeySentNotice(facts(s), now);
    case 'connected':
      return s.state === 'CLOSED' ? null : renderConnectedNotice(facts(s), now);
    case 'expiring_soon':
      return s.state === 'CLOSED' || s.expiresAt !== data.expiresAt ? null : renderExpiringNotice(facts(s), now);
    case 'closed':
      return s.state === 'CLOSED' ? renderClosedNotice(facts(s)) : null;
  }
}

export async function processNotification(data: NotificationData, ctx: JobContext, deps: NotificationsDeps): Promise<NotificationResult> {
  const identity = noticeIdentity(data, ctx.jobId);
  if (await deps.sentMails.wasSent(identity)) return 'already_sent';
  const mail = await render(data, deps);
  if (!mail) return 'skipped';
  await deps.mailer.send({ to: data.to, ...mail, messageId: messageIdOf(identity, deps.mailDomain), template: data.template });
  // Right after the 250: a crash before this write is the only way this notice goes out twice.
  await deps.sentMails.record(identity, deps.now());
  deps.logger.info({ template: data.template, jobId: ctx.jobId }, 'notification sent');
  return 'sent';
}

export function createNotificationsWorker(deps: NotificationsDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.notification, (data, ctx) => processNotification(data, ctx, deps), rt);
}
