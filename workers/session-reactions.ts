// What the pipeline does in answer to each audit entry, as a pure function: the lifecycle core's
// pipeline effects (plan or cancel expiry jobs, post a ticket comment, mail the requester, drop
// the key text), made concrete with the session's ticket, requester and texts. Job ids derive from the
// audit entry id, so processing an entry twice (after a crash) enqueues nothing new.
import type { PlannedExpiry } from '../queues/producers.js';
import { jobIds } from '../queues/job-ids.js';
import { effectsOfEntry, type TicketNews } from '../shared/session/lifecycle.js';
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
  // The lifecycle core says what the transition means; the pipeline carries out its own effects.
  const effects = effectsOfEntry(entry.type, entry.fields.from).filter((e) => e.by === 'pipeline');
  const out: Reaction[] = [];
  // A key replaced before anyone received it is an internal matter: no customer mail or comment.
  const received = ctx.delivered || Boolean(session?.activatedAt);
  for (const e of effects) {
    switch (e.kind) {
      case 'plan-expiry':
        // Planned from the current record, so late or out-of-order entries plan the right expiry.
        if (session && session.state !== 'CLOSED') out.push({ kind: 'plan-expiry' });
        break;
      case 'cancel-expiry':
      case 'forget-key-text':
        out.push({ kind: e.kind });
        break;
      case 'comment':
        if (session?.ticket && (!e.onlyIfReceived || received)) {
          out.push({ kind: 'comment', ticket: session.ticket, body: newsText(e.news, session, entry), jobId: jobIds.reaction(entry.id, 'comment') });
        }
        break;
      case 'notify':
        if (session?.email && (!e.onlyIfReceived || received)) out.push({ kind: 'notify', template: e.template, to: session.email, jobId: jobIds.reaction(entry.id, e.template) });
        break;
    }
  }
  return out;
}

function newsText(news: TicketNews, session: SessionRecord, entry: AuditEntry): string {
  switch (news) {
    case 'connected':
      return ticketComments.connected(session, entry.at);
    case 'reconnected':
      return ticketComments.reconnected(session, entry.at);
    case 'lost':
      return ticketComments.lost(session, entry.at);
    case 'closed':
      return ticketComments.closed(session, reasonOf(entry) ?? session.reason, entry.at);
  }
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
