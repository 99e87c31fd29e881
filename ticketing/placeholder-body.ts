// The body our Zendesk trigger and Freshdesk automation templates send (docs/help-desks.md): every
// value is a rendered placeholder, so everything is text (or a number) and an unfilled one arrives
// empty. The vendor files add their `event` values, the delivery id and what "closed" means.
import { z } from 'zod';
import { assigneeOf, splitTags, textOf, type EventDraft } from './ticket-fields.js';

const placeholder = z.union([z.string().max(20_000), z.number()]).nullish();

export const placeholderBodyFields = {
  ticket_id: z.union([z.string().regex(/^\d{1,20}$/, 'ticket_id must be the numeric ticket id'), z.number().int().nonnegative()]).transform(String),
  status: placeholder,
  subject: placeholder,
  description: placeholder,
  requester_email: placeholder,
  requester_name: placeholder,
  /** The agent the ticket is assigned to: empty while nobody is, absent from templates older than the assignee mapping. */
  assignee_email: placeholder,
  tags: z.union([z.string().max(10_000), z.array(z.string())]).nullish(),
  serial: placeholder,
  product: placeholder,
  version: placeholder,
};

const placeholderBodySchema = z.object(placeholderBodyFields);
export type PlaceholderBody = z.infer<typeof placeholderBodySchema>;

/** Everything of the event draft but kind, delivery id and ticket ref, which are the vendor's. */
export function draftOfPlaceholders(b: PlaceholderBody): Omit<EventDraft, 'kind' | 'deliveryId' | 'ticket'> {
  return {
    subject: textOf(b.subject),
    description: textOf(b.description),
    status: textOf(b.status),
    email: textOf(b.requester_email),
    name: textOf(b.requester_name),
    serial: textOf(b.serial),
    product: textOf(b.product),
    version: textOf(b.version),
    tags: splitTags(b.tags),
    assignee: assigneeOf({ email: b.assignee_email }),
  };
}
