// What the pipeline does in answer to each audit entry, as a pure function: plan or cancel expiry
// jobs, post a ticket comment, mail the requester, drop the key text. Job ids derive from the
// audit entry id, so processing an entry twice (after a crash) enqueues nothing new.
import type { PlannedExpiry } from '../queues/producers.js';
import { jobIds } from '../queues/job-ids.js';
import { CLOSE_REASONS, type CloseReason } from '../shared/session/session-machine.js';
import type { SessionRecord, TicketRef } from '../shared/session/session.schema.js';
import type { AuditEntry } from '../shared/store/audit.store.js';
import { ticketComments } from './ticket-comments.js';

export type Reaction =
  | { kind: 'plan-expiry' }
  | { kind: 'cancel-expiry' }
  | { kind: 'forget-key-text' }
  | { kind: 'comment'; ticket: TicketRef; body: string; jobId: string }
  | { kind: 'notify'; template: 'connected' | 'closed'; to: string; jobId: string };

export interface ReactionContext {
  /** Whether the key mail went out (a closed mail for a key nobody received would confuse). */
  delivered: boolean;
}

function reasonOf(entry: AuditEntry): CloseReason | undefined {
  const r = entry.fields.reason;
  return (CLOSE_REASONS as readonly string[]).includes(r ?? '') ? (r as CloseReason) : undefined;
}

export function reactionsTo(entry: AuditEntry, session: SessionRecord | null, ctx: ReactionContext): Reaction[] {
  if (!session) return entry.type === 'session.closed' ? [{ kind: 'cancel-expiry' }, { kind: 'forget-key-text' }] : [];
  const out: Reaction[] = [];
  const comment = (what: string, body: string) => {
    if (session.ticket) out.push({ kind: 'comment', ticket: session.ticket, body, jobId: jobIds.reaction(entry.id, what) });
  };
  const notify = (template: 'connected' | 'closed') => {
    if (session.email) out.push({ kind: 'notify', template, to: session.email, jobId: jobIds.reaction(entry.id, template) });
  };
  switch (entry.type) {
    case 'session.issued':
    case 'session.extended':
      // Planned from the current record, so late or out-of-order entries plan the right expiry.
      if (session.state !== 'CLOSED') out.push({ kind: 'plan-expiry' });
      break;
    case 'session.activated':
      comment('comment', ticketComments.connected(session, entry.at));
      notify('connected');
      break;
    case 'session.reconnected':
      // From CONNECTED it never was reported lost (a drained relay sent it to another, or a reset):
      // nothing for the ticket to hear.
      if (entry.fields.from !== 'CONNECTED') comment('comment', ticketComments.reconnected(session, entry.at));
      break;
    case 'session.lost':
      comment('comment', ticketComments.lost(session, entry.at));
      break;
    case 'session.closed': {
      out.push({ kind: 'cancel-expiry' }, { kind: 'forget-key-text' });
      const reason = reasonOf(entry) ?? session.reason;
      // A key replaced before anyone received it is an internal matter: no customer mail.
      if (ctx.delivered || session.activatedAt) {
        comment('comment', ticketComments.closed(session, reason, entry.at));
        notify('closed');
      }
      break;
    }
  }
  return out;
}

/**
 * Warnings at `offsetsMs` before expiry (skipping those already past, and any at or before issue
 * time), then the expiry itself at the deadline. Only its first step is ever queued (nextExpiryStep):
 * each warning queues the step after it when it runs.
 */
export function planExpiry(session: Pick<SessionRecord, 'issuedAt' | 'expiresAt'>, offsetsMs: readonly number[], now: number): PlannedExpiry[] {
  const plan: PlannedExpiry[] = [];
  for (const offsetMs of [...new Set(offsetsMs)].sort((a, b) => b - a)) {
    const runAt = session.expiresAt - offsetMs;
    if (offsetMs > 0 && runAt > now && runAt > session.issuedAt) plan.push({ kind: 'warn', runAt, offsetMs });
  }
  plan.push({ kind: 'expire', runAt: session.expiresAt });
  return plan;
}

/**
 * The one expiry job to queue: the plan's first step, or, when the warning `after` (its offset) is
 * running, the first step that comes after it. Warnings are compared by offset, not by time, so a
 * warning that runs a little early never queues itself again.
 */
export function nextExpiryStep(plan: readonly PlannedExpiry[], after?: { offsetMs: number }): PlannedExpiry {
  const next = after ? plan.find((p) => p.kind === 'expire' || (p.offsetMs ?? 0) < after.offsetMs) : plan[0];
  // planExpiry always ends with the expiry itself.
  return next ?? (plan[plan.length - 1] as PlannedExpiry);
}
