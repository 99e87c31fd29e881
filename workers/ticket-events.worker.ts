// ticket-events: decides what a normalised ticket event means for tethers: provision a key (the
// ticket asks for one and has no live session for its serial), tear the ticket's session down
// (ticket closed), or ignore it. The decision is a pure function; the processor carries it out.
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
  | { action: 'teardown'; sid: string }
  | { action: 'ignore'; why: string };

/** `live`: the serial's live session, if it belongs to this ticket. */
export function decideTicketEvent(event: TicketEvent, live: SessionRecord | null): TicketDecision {
  if (event.kind === 'closed') return live ? { action: 'teardown', sid: live.id } : { action: 'ignore', why: 'no live session for this ticket' };
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
  const decision = decideTicketEvent(e, await liveSessionOfTicket(deps.sessions, e.ticket, e.appliance.serial));
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
    try {
      await deps.sessions.close(decision.sid, 'ticket_closed', actor, deps.now(), e.appliance.serial);
    } catch (err) {
      if (!isAppError(err, 'session_closed')) throw err;
    }
  }
  if (e.kind === 'closed') await deps.producers.cancelKeyIssue(e.ticket, e.appliance.serial);
  deps.logger.info({ ticket: e.ticket, kind: e.kind, decision: decision.action }, 'ticket event');
  return decision;
}

export function createTicketEventsWorker(deps: TicketEventsDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.ticketEvent, (data) => processTicketEvent(data, deps), rt);
}
