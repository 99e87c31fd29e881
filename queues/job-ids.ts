// Deterministic job ids, where a duplicate would hurt. BullMQ refuses ':' in custom ids, so parts
// that may hold any character (ticket ids, delivery ids) are hashed.
import { createHash } from 'node:crypto';
import type { TicketRef } from '../shared/session/session.schema.js';

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

export const jobIds = {
  /**
   * One job per help-desk delivery. `window`: the acceptance window of a delivery id remembered for
   * less time than finished jobs are kept (Freshdesk's body digest), so that the same id accepted
   * again after its dedupe key expired is a new job instead of one BullMQ drops as a duplicate.
   */
  ticketEvent: (system: string, deliveryId: string, window?: number) =>
    window === undefined ? `te-${digest(system, deliveryId)}` : `te-${digest(system, deliveryId, `w${window}`)}`,
  /** One key per ticket and serial (serials compare case-insensitively). */
  keyIssue: (ticket: TicketRef, serial: string) => `ki-${digest(ticket.system, ticket.id, serial.toUpperCase())}`,
  keyDelivery: (sid: string) => `kd-${sid}`,
  /** One expiry job per session, kind and planned expiry time (an extension plans new ones). */
  expiry: (sid: string, kind: 'warn' | 'expire', expiresAt: number, offsetMs = 0) =>
    kind === 'warn' ? `ex-${sid}-warn${offsetMs}-${expiresAt}` : `ex-${sid}-expire-${expiresAt}`,
  /** Reactions to an audit entry: one job per entry and kind of reaction. */
  reaction: (auditId: string, what: string) => `re-${auditId}-${what}`,
  keySentComment: (sid: string) => `ks-${sid}-comment`,
  keySentNotice: (sid: string) => `ks-${sid}-notice`,
  warnNotice: (sid: string, offsetMs: number, expiresAt: number) => `wn-${sid}-${offsetMs}-${expiresAt}`,
  /**
   * The notice of a job that failed for good; `failedAt` tells one failure of a job id from the next
   * (after an operator's retry, or a key request re-added under its ticket's id).
   */
  jobFailed: (queue: string, jobId: string, failedAt?: number) => (failedAt === undefined ? `jf-${digest(queue, jobId)}` : `jf-${digest(queue, jobId)}-${failedAt}`),
} as const;
