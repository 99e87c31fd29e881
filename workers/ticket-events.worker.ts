// ticket-events: decides what a normalised ticket event means for tethers: provision a key (the
// ticket asks for one and has no live session for its serial), tear the ticket's sessions down
// (ticket closed: every live session issued for it, whatever serial the event names now, and its
// pending key requests), or ignore it (a create after the ticket's close is stale). The decision is
// a pure function; the processor carries it out.
import type { Worker } from 'bullmq';
import type { ClosedTickets } from '../queues/closed-ticket.store.js';
import type { JobData } from '../queues/job-schemas.js';
import type { Producers } from '../queues/producers.js';
import { JOB } from '../queues/queue-names.js';
import { asksForTether, type TicketEvent } from '../queues/ticket-event.schema.js';
import { AppError, isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { AccessStore } from '../shared/store/access.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { liveSessionOfTicket } from './ticket-sessions.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export type TicketDecision =
  | { action: 'provision'; reopens?: true }
  | { action: 'teardown'; sids: string[] }
  | { action: 'ignore'; why: string };

/** Why a create that comes after its ticket's close is ignored (help desks deliver out of order). */
export const STALE_CREATE = 'ticket was closed already: a create arriving after its close is stale';

/**
 * `live`: the serial's live session, if it belongs to this ticket; `ofTicket`: every live session
 * issued for the ticket (its serial may have been edited since); `closedBefore`: the ticket's close
 * was seen earlier (closed-ticket.store.ts). A ticket is created once, so a create after its close
 * is a late retry; an update asking for a tether after it is a reopen (`reopens`).
 */
export function decideTicketEvent(event: TicketEvent, live: SessionRecord | null, ofTicket: readonly SessionRecord[] = [], closedBefore = false): TicketDecision {
  if (event.kind === 'closed') {
    const sids = [...new Set([...(live ? [live.id] : []), ...ofTicket.map((s) => s.id)])];
    return sids.length ? { action: 'teardown', sids } : { action: 'ignore', why: 'no live session for this ticket' };
  }
  if (event.kind === 'created' && closedBefore) return { action: 'ignore', why: STALE_CREATE };
  if (!asksForTether(event)) return { action: 'ignore', why: 'ticket does not ask for a tether' };
  if (live) return { action: 'ignore', why: `session ${live.id} is already live for this ticket` };
  return closedBefore ? { action: 'provision', reopens: true } : { action: 'provision' };
}

export interface TicketEventsDeps {
  sessions: SessionStore;
  producers: Producers;
  /** Marks of closed tickets: written on close, read on create, cleared by a reopen. */
  closedTickets: ClosedTickets;
  now: () => number;
  logger: Logger;
  /** Life of keys provisioned for tickets. */
  ticketKeyTtlMs: number;
  /** Records the ticket's assignee (mapped to an engineer) for per-session authorisation. */
  access?: AccessStore | undefined;
}

export async function processTicketEvent(data: JobData<typeof JOB.ticketEvent>, deps: TicketEventsDeps): Promise<TicketDecision> {
  const e = data.event;
  // The mark goes first: a key-issue job that mints after this sees it (and closes its session);
  // one that minted before is among the live sessions read below.
  if (e.kind === 'closed') await deps.closedTickets.markClosed(e.ticket, deps.now());
  const [closedBefore, seen] = await Promise.all([
    e.kind !== 'closed' && deps.closedTickets.isClosed(e.ticket),
    liveSessionOfTicket(deps.sessions, e.ticket, e.appliance.serial),
  ]);
  let live = seen;
  if (closedBefore && e.kind === 'updated' && asksForTether(e)) {
    // A reopen. A key-issue job running now may have seen the mark and be closing the session it
    // minted, which would still look live: let it end first (the event is retried).
    if (await deps.producers.keyIssueRunning(e.ticket, e.appliance.serial)) {
      throw new AppError('key_issue_running', `ticket ${e.ticket.system}:${e.ticket.id} reopened while its key-issue job runs`, { retryable: true });
    }
    await deps.closedTickets.reopen(e.ticket);
    live = await liveSessionOfTicket(deps.sessions, e.ticket, e.appliance.serial);
  }
  const ofTicket = e.kind === 'closed' ? await deps.sessions.findLiveByTicket(e.ticket) : [];
  const decision = decideTicketEvent(e, live, ofTicket, closedBefore);
  const actor = `ticket:${e.ticket.system}:${e.ticket.id}`;
  // Before provisioning: the assignee may reach the session from its first second.
  if (e.kind !== 'closed' && e.assignee !== undefined && deps.access) await deps.access.assignFromTicket(e.ticket, e.assignee, actor, deps.now());
  if (decision.action === 'provision') {
    // A key-issue job still running for this ticket and serial throws key_issue_running: this event
    // is retried, and then finds the session that job minted, or a finished job it may replace.
    await deps.producers.keyIssue({
      serial: e.appliance.serial,
      product: e.appliance.product,
      version: e.appliance.version,
      ttlMs: deps.ticketKeyTtlMs,
      ticket: e.ticket,
      ticketSubject: e.subject,
      email: e.requester.email,
      actor,
    });
  } else if (decision.action === 'teardown') {
    for (const sid of decision.sids) {
      try {
        // The serial is read from the session: the event's may have been edited since issue.
        await deps.sessions.close(sid, 'ticket_closed', actor, deps.now());
      } catch (err) {
        if (!isAppError(err, 'session_closed')) throw err;
      }
    }
  }
  if (e.kind === 'closed') await deps.producers.cancelKeyIssue(e.ticket, [e.appliance.serial, ...ofTicket.map((s) => s.serial)]);
  const why = decision.action === 'ignore' ? decision.why : undefined;
  deps.logger.info({ ticket: e.ticket, kind: e.kind, decision: decision.action, why, reopens: decision.action === 'provision' ? decision.reopens : undefined }, 'ticket event');
  return decision;
}

export function createTicketEventsWorker(deps: TicketEventsDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.ticketEvent, (data) => processTicketEvent(data, deps), rt);
}
