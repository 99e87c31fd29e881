// The generic help desk's webhook body (DESIGN.md, "The generic help-desk webhook") and its
// mapping to the normalised TicketEvent. Refusals name the first offending field.
import { z } from 'zod';
import type { TicketEvent } from '../queues/ticket-event.schema.js';
import { ticketEventSchema } from '../queues/ticket-event.schema.js';
import { PRODUCTS } from '../shared/key/tether-key.schema.js';
import type { ParseResult } from './ticket-adapter.js';
import { firstIssue } from '../shared/errors.js';

export const GENERIC_SYSTEM = 'generic';

const KIND_OF_TYPE = { 'ticket.created': 'created', 'ticket.updated': 'updated', 'ticket.closed': 'closed' } as const;

export const genericWebhookSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.enum(['ticket.created', 'ticket.updated', 'ticket.closed']),
  ticket: z.object({
    id: z.union([z.string().min(1).max(128), z.number().int().nonnegative()]).transform(String),
    subject: z.string().max(1_000).optional(),
    description: z.string().max(20_000).optional(),
    status: z.string().max(64).optional(),
    requester: z.object({ email: z.email().max(254), name: z.string().max(200).optional() }),
    tags: z.array(z.string().min(1).max(64)).max(100).default([]),
    /** The support engineer the ticket is assigned to (mapped to a registered engineer by e-mail or login). */
    assignee: z.object({ email: z.string().max(254).optional(), login: z.string().max(200).optional() }).nullable().optional(),
    appliance: z.object({
      serial: z.string({ error: 'serial is required' }).min(1, 'serial is required'),
      product: z.string({ error: 'product is required' }).transform((p, ctx) => {
        const lower = p.toLowerCase();
        if (!(PRODUCTS as readonly string[]).includes(lower)) {
          ctx.addIssue({ code: 'custom', message: `unknown product "${p}" (expected ${PRODUCTS.join(' or ')})` });
          return z.NEVER;
        }
        return lower as (typeof PRODUCTS)[number];
      }),
      version: z.union([z.string().max(32), z.number()]).transform(String).optional(),
    }),
  }),
});


export function parseGenericWebhook(rawBody: Buffer): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  const parsed = genericWebhookSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: firstIssue(parsed.error) };
  const b = parsed.data;
  const candidate: TicketEvent = {
    kind: KIND_OF_TYPE[b.type],
    deliveryId: b.id,
    ticket: { system: GENERIC_SYSTEM, id: b.ticket.id },
    subject: b.ticket.subject,
    description: b.ticket.description,
    status: b.ticket.status,
    requester: b.ticket.requester,
    appliance: { serial: b.ticket.appliance.serial, product: b.ticket.appliance.product, version: b.ticket.appliance.version },
    tags: b.ticket.tags,
    ...(b.ticket.assignee !== undefined ? { assignee: b.ticket.assignee } : {}),
  };
  // The normalised schema adds the serial's shape rules and the limits every adapter shares.
  const event = ticketEventSchema.safeParse(candidate);
  if (!event.success) return { ok: false, reason: firstIssue(event.error).replace(/^appliance\./, 'ticket.appliance.') };
  return { ok: true, event: event.data };
}
