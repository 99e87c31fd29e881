// The normalised ticket event every help-desk adapter produces and the ticket-events queue
// carries. It lives here (not in ticketing/) because it is the payload contract of a queue, and
// adapters depend on queues, never the reverse.
import { z } from 'zod';
import { productSchema, serialSchema } from '../shared/key/tether-key.schema.js';
import { ticketRefSchema } from '../shared/session/session.schema.js';

export const TICKET_EVENT_KINDS = ['created', 'updated', 'closed'] as const;
export type TicketEventKind = (typeof TICKET_EVENT_KINDS)[number];

/** The tag that makes a ticket ask for a tether (adapters add it when their serial field is set). */
export const TETHER_TAG = 'tether';

export const ticketEventSchema = z.object({
  kind: z.enum(TICKET_EVENT_KINDS),
  /** The help desk's id for this delivery: a repeated id is a duplicate. */
  deliveryId: z.string().min(1).max(200),
  ticket: ticketRefSchema,
  subject: z.string().max(1_000).optional(),
  description: z.string().max(20_000).optional(),
  status: z.string().max(64).optional(),
  requester: z.object({ email: z.email().max(254), name: z.string().max(200).optional() }),
  appliance: z.object({ serial: serialSchema, product: productSchema, version: z.string().max(32).optional() }),
  tags: z.array(z.string().min(1).max(64)).max(100),
  /** Who the help desk assigned the ticket to; null: unassigned; absent: the help desk did not say. */
  assignee: z.object({ email: z.string().max(254).optional(), login: z.string().max(200).optional() }).nullable().optional(),
});

export type TicketEvent = z.infer<typeof ticketEventSchema>;

export function asksForTether(event: TicketEvent): boolean {
  return event.tags.some((t) => t.toLowerCase() === TETHER_TAG);
}
