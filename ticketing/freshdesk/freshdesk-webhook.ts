// Freshdesk's inbound side. Automation webhooks carry no signature, so our documented scheme is a
// shared secret in a custom header (`X-Tether-Token`, set in the rule), compared in constant time.
// The body is our automation template (docs/help-desks.md); status may arrive as Freshdesk's
// number (4 Resolved, 5 Closed) or as its label, depending on the placeholder (UNCONFIRMED).
import { z } from 'zod';
import type { TicketEventKind } from '../../queues/ticket-event.schema.js';
import { draftOfPlaceholders, placeholderBodyFields } from '../placeholder-body.js';
import { finishEvent, firstZodIssue, parseJson } from '../ticket-fields.js';
import type { ParseResult, Verdict, WebhookHeaders } from '../ticket-adapter.js';
import { bodyDigest, equalSecrets, headerValue } from '../webhook-crypto.js';

export const FRESHDESK_SYSTEM = 'freshdesk';
export const FRESHDESK_TOKEN_HEADER = 'x-tether-token';
/**
 * Freshdesk sends no delivery id, so ours is the ticket and a digest of the body. Its retries
 * come at +5, +30 and +60 minutes; remembering ids for three hours catches them, while a later,
 * byte-identical event (resolved again after a reopen) is still accepted.
 */
export const FRESHDESK_DEDUPE_TTL_S = 3 * 3_600;

export function verifyFreshdesk(token: string, headers: WebhookHeaders): Verdict {
  const given = headerValue(headers, FRESHDESK_TOKEN_HEADER);
  if (!given) return { ok: false, reason: 'missing X-Tether-Token header' };
  if (!equalSecrets(given, token)) return { ok: false, reason: 'bad token' };
  return { ok: true };
}

/** Our automation template's body (placeholder-body.ts) with the rule's literal event. */
export const freshdeskWebhookSchema = z.object({
  event: z.enum(['created', 'updated', 'resolved', 'closed'], { error: 'event must be created, updated or resolved' }),
  ...placeholderBodyFields,
});

/** Freshdesk's numeric statuses (2 Open, 3 Pending, 4 Resolved, 5 Closed) and their labels. */
export const FRESHDESK_DONE_STATUSES: readonly string[] = ['4', '5', 'resolved', 'closed'];

export function isFreshdeskDone(status: string | undefined): boolean {
  return status !== undefined && FRESHDESK_DONE_STATUSES.includes(status.trim().toLowerCase());
}

export function parseFreshdesk(rawBody: Buffer): ParseResult {
  const json = parseJson(rawBody);
  if (!json.ok) return json;
  const parsed = freshdeskWebhookSchema.safeParse(json.json);
  if (!parsed.success) return { ok: false, reason: firstZodIssue(parsed.error) };
  const b = parsed.data;
  const draft = draftOfPlaceholders(b);
  const kind: TicketEventKind = b.event === 'resolved' || b.event === 'closed' || isFreshdeskDone(draft.status) ? 'closed' : b.event === 'created' ? 'created' : 'updated';
  return finishEvent({ ...draft, kind, deliveryId: `${b.ticket_id}:${bodyDigest(rawBody)}`, ticket: { system: FRESHDESK_SYSTEM, id: b.ticket_id } });
}
