// The notification mails, in text and HTML: key sent (to the support mailbox), connected,
// expiring soon, closed (with the reason), and a job that exhausted its retries (to operators).
import type { Product } from '../key/tether-key.schema.js';
import type { CloseReason } from '../session/session-machine.js';
import type { TicketRef } from '../session/session.schema.js';
import { applianceSteps } from './appliance-steps.js';
import { CLOSE_REASON_TEXT, finishText, formatExpiry, formatWhen, layoutHtml, paragraphsHtml, productName, type RenderedMail } from './mail-format.js';

export interface SessionFacts {
  sid: string;
  serial: string;
  product: Product;
  version?: string | undefined;
  expiresAt: number;
  email?: string | undefined;
  ticket?: TicketRef | undefined;
  reason?: CloseReason | undefined;
  closedAt?: number | undefined;
}

function mail(subject: string, paragraphs: string[]): RenderedMail {
  return { subject, text: `${finishText(paragraphs.join('\n\n').split('\n'))}\n`, html: layoutHtml(subject, paragraphsHtml(paragraphs)) };
}

const SIGN_OFF = 'Regards,\nYour support team';

export function renderKeySentNotice(s: SessionFacts, now: number): RenderedMail {
  return mail(`[tether] Key for ${s.serial} sent`, [
    `The tether key for appliance ${s.serial} (${productName(s.product, s.version)}) was sent to ${s.email ?? 'nobody'}.`,
    `It expires ${formatExpiry(s.expiresAt, now)}.${s.ticket ? ` Ticket: ${s.ticket.system} ${s.ticket.id}.` : ''} Session: ${s.sid}.`,
  ]);
}

export function renderConnectedNotice(s: SessionFacts, now: number): RenderedMail {
  return mail(`Tether connected: appliance ${s.serial}`, [
    'Hello,',
    `Your appliance ${s.serial} has opened its tether. Our support engineers can now reach it until ${formatExpiry(s.expiresAt, now)} at the latest.`,
    applianceSteps(s.product, s.version).disable,
    SIGN_OFF,
  ]);
}

export function renderExpiringNotice(s: SessionFacts, now: number): RenderedMail {
  return mail(`Tether for appliance ${s.serial} expires soon`, [
    'Hello,',
    `The tether of your appliance ${s.serial} expires ${formatExpiry(s.expiresAt, now)}. When it expires, support access ends by itself.`,
    'If our work is not finished by then, reply to this mail or update your ticket and we will extend it.',
    SIGN_OFF,
  ]);
}

export function renderClosedNotice(s: SessionFacts): RenderedMail {
  const why = s.reason ? CLOSE_REASON_TEXT[s.reason] : 'it was closed';
  const when = s.closedAt ? ` on ${formatWhen(s.closedAt)}` : '';
  return mail(`Tether closed: appliance ${s.serial}`, [
    'Hello,',
    `The tether of your appliance ${s.serial} was closed${when} because ${why}. Support engineers can no longer reach the appliance, and the key cannot be used again.`,
    'If you still need help, reply to this mail or to your ticket.',
    SIGN_OFF,
  ]);
}

export interface FailedJobFacts {
  queue: string;
  jobId: string;
  jobName: string;
  attempts: number;
  error: string;
}

export function renderJobFailedNotice(f: FailedJobFacts): RenderedMail {
  return mail(`[tether] ${f.queue} job failed for good`, [
    `Job ${f.jobName} ${f.jobId} on queue ${f.queue} failed after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'} and will not be retried.`,
    `Last error: ${f.error}`,
    'It stays in the failed set of its queue; retry it from Bull Board or the operator CLI once the cause is fixed.',
  ]);
}
