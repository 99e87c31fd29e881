// notifications: renders and mails one notice (key sent, connected, expiring soon, closed with the
// reason, a job failed for good). Notices about a session re-read it first and skip what no longer
// holds (no "connected" mail for a closed session, no warning for an expiry that moved).
import type { Worker } from 'bullmq';
import type { JobData } from '../queues/job-schemas.js';
import { JOB } from '../queues/queue-names.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { RenderedMail } from '../shared/mail/mail-format.js';
import type { Mailer } from '../shared/mail/mailer.js';
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
  mailDomain: string;
}

type NotificationData = JobData<typeof JOB.notification>;
export type NotificationResult = 'sent' | 'skipped';

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
  const mail = await render(data, deps);
  if (!mail) return 'skipped';
  await deps.mailer.send({ to: data.to, ...mail, messageId: `<${ctx.jobId}@${deps.mailDomain}>` });
  deps.logger.info({ template: data.template, jobId: ctx.jobId }, 'notification sent');
  return 'sent';
}

export function createNotificationsWorker(deps: NotificationsDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.notification, (data, ctx) => processNotification(data, ctx, deps), rt);
}
