// ticket-events: decides what a normalised ticket event means for tethers: provision a key (the
// ticket asks for one and has no live session for its serial), tear the ticket's sessions down
// (ticket closed: every live session issued for it, whatever serial the event names now), or ignore it. The decision is a pure function; the processor carries it out.
import type { Worker } from 'bullmq';
import type { JobData } from '../queues/job-schemas.js';
import type { Producers } from '../queues/producers.js';
import { JOB } from '../queues/queue-names.js';
import { asksForTether, type TicketEvent } from '../queues/ticket-event.schema.js';
import { isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { AccessStore } from '../shared/store/access.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { liveSessionOfTicket } from './ticket-sessions.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export type TicketDecision =
  | { action: 'provision' }
  | { action: 'teardown'; sids: string[] }
  | { action: 'ignore'; why: string };

/**
 * `live`: the serial's live session, if it belongs to this ticket; `ofTicket`: every live session
 * issued for the ticket (its serial may have been edited since).
 */
export function decideTicketEvent(event: TicketEvent, live: SessionRecord | null, ofTicket: readonly SessionRecord[] = []): TicketDecision {
  if (event.kind === 'closed') {
    const sids = [...new Set([...(live ? [live.id] : []), ...ofTicket.map((s) => s.id)])];
    return sids.length ? { action: 'teardown', sids } : { action: 'ignore', why: 'no live session for this ticket' };
  }
  if (!asksForTether(event)) return { action: 'ignore', why: 'ticket does not ask for a tether' };
  if (live) return { action: 'ignore', why: `session ${live.id} is already live for this ticket` };
  return { action: 'provision' };
}

export interface TicketEventsDeps {
  sessions: SessionStore;
  producers: Producers;
  now: () => number;
  logger: Logger;
  /** Life of keys provisioned for tickets. */
  ticketKeyTtlMs: number;
  /** Records the ticket's assignee (mapped to an engineer) for per-session authorisation. */
  access?: AccessStore | undefined;
}

export async function processTicketEvent(data: JobData<typeof JOB.ticketEvent>, deps: TicketEventsDeps): Promise<TicketDecision> {
  const e = data.event;
  const live = await liveSessionOfTicket(deps.sessions, e.ticket, e.appliance.serial);
  const decision = decideTicketEvent(e, live, e.kind === 'closed' ? await deps.sessions.findLiveByTicket(e.ticket) : []);
  const actor = `ticket:${e.ticket.system}:${e.ticket.id}`;
  // Before provisioning: the assignee may reach the session from its first second.
  if (e.kind !== 'closed' && e.assignee !== undefined && deps.access) await deps.access.assignFromTicket(e.ticket, e.assignee, actor, deps.now());
  if (decision.action === 'provision') {
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
  if (e.kind === 'closed') await deps.producers.cancelKeyIssue(e.ticket, e.appliance.serial);
  deps.logger.info({ ticket: e.ticket, kind: e.kind, decision: decision.action }, 'ticket event');
  return decision;
}

export function createTicketEventsWorker(deps: TicketEventsDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.ticketEvent, (data) => processTicketEvent(data, deps), rt);
}
