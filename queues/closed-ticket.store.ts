// Remembers that a help-desk ticket was closed. Help desks deliver out of order and retry minutes
// later, and events carry no help-desk time, so a ticket's close is the one fact later events are
// judged by: a create after it is stale, a ticket's key-issue job mints nothing while it holds, and
// a reopen (an update asking for a tether) clears it.
import type { Redis } from 'ioredis';
import type { TicketRef } from '../shared/session/session.schema.js';
import { pipelineKeys, type PipelineKeys } from '../shared/store/redis-keys.js';

/** As long as finished jobs keep their ids (job-options.ts), and past every help desk's retries. */
export const CLOSED_TICKET_MS = 7 * 86_400_000;

export interface ClosedTickets {
  markClosed(ticket: TicketRef, now: number): Promise<void>;
  isClosed(ticket: TicketRef): Promise<boolean>;
  /** Clears the mark; true when there was one (the ticket is being reopened). */
  reopen(ticket: TicketRef): Promise<boolean>;
}

export class RedisClosedTickets implements ClosedTickets {
  private readonly keys: PipelineKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = pipelineKeys(prefix);
  }

  async markClosed(ticket: TicketRef, now: number): Promise<void> {
    await this.redis.set(this.keys.ticketClosed(ticket.system, ticket.id), String(now), 'PX', CLOSED_TICKET_MS);
  }

  async isClosed(ticket: TicketRef): Promise<boolean> {
    return (await this.redis.exists(this.keys.ticketClosed(ticket.system, ticket.id))) === 1;
  }

  async reopen(ticket: TicketRef): Promise<boolean> {
    return (await this.redis.del(this.keys.ticketClosed(ticket.system, ticket.id))) === 1;
  }
}
