// Zendesk's inbound side: the webhook signature (base64 HMAC-SHA256 of the timestamp header and
// the raw body concatenated with NO separator, per developer.zendesk.com "Verifying webhook
// authenticity") and the body our trigger template sends (docs/help-desks.md), mapped to a TicketEvent.
import { z } from 'zod';
import type { TicketEventKind } from '../../queues/ticket-event.schema.js';
import { draftOfPlaceholders, placeholderBodyFields } from '../placeholder-body.js';
import { finishEvent, firstZodIssue, parseJson } from '../ticket-fields.js';
import type { ParseResult, Verdict, WebhookHeaders } from '../ticket-adapter.js';
import { equalBytes, headerValue, hmacSha256 } from '../webhook-crypto.js';

export const ZENDESK_SYSTEM = 'zendesk';
export const ZENDESK_SIGNATURE_HEADER = 'x-zendesk-webhook-signature';
export const ZENDESK_TIMESTAMP_HEADER = 'x-zendesk-webhook-signature-timestamp';
export const ZENDESK_INVOCATION_HEADER = 'x-zendesk-webhook-invocation-id';
/** Zendesk documents no replay window; five minutes either way is our policy, as for the generic webhook. */
export const ZENDESK_REPLAY_WINDOW_MS = 300_000;

export function verifyZendesk(secret: string, headers: WebhookHeaders, rawBody: Buffer, nowMs: number): Verdict {
  const signature = headerValue(headers, ZENDESK_SIGNATURE_HEADER);
  const timestamp = headerValue(headers, ZENDESK_TIMESTAMP_HEADER);
  if (!signature) return { ok: false, reason: 'missing X-Zendesk-Webhook-Signature header' };
  if (!timestamp) return { ok: false, reason: 'missing X-Zendesk-Webhook-Signature-Timestamp header' };
  // ISO-8601 (2021-03-25T05:09:27Z), not epoch seconds.
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return { ok: false, reason: 'X-Zendesk-Webhook-Signature-Timestamp is not an ISO-8601 time' };
  if (Math.abs(nowMs - at) > ZENDESK_REPLAY_WINDOW_MS) return { ok: false, reason: 'stale timestamp: more than 5 minutes off' };
  if (!/^[A-Za-z0-9+/]{43}=$/.test(signature)) return { ok: false, reason: 'X-Zendesk-Webhook-Signature must be a base64 HMAC-SHA256' };
  // The signed message is the timestamp header's exact text followed directly by the body bytes.
  const want = hmacSha256(secret, Buffer.from(timestamp, 'utf8'), rawBody);
  if (!equalBytes(Buffer.from(signature, 'base64'), want)) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}

/** Our trigger template's body (placeholder-body.ts) with the trigger's literal event. */
export const zendeskWebhookSchema = z.object({
  event: z.enum(['created', 'updated', 'solved', 'closed'], { error: 'event must be created, updated or solved' }),
  ...placeholderBodyFields,
});

/** Solved is Zendesk's "done" (a requester reply may reopen it); closed follows days later and is read-only. */
function kindOf(event: string, status: string | undefined): TicketEventKind {
  if (event === 'solved' || event === 'closed') return 'closed';
  // {{ticket.status}} may render localised (UNCONFIRMED); the trigger's literal event is what counts.
  if (status && ['solved', 'closed'].includes(status.toLowerCase())) return 'closed';
  return event === 'created' ? 'created' : 'updated';
}

export function parseZendesk(rawBody: Buffer, headers: WebhookHeaders = {}): ParseResult {
  const json = parseJson(rawBody);
  if (!json.ok) return json;
  const parsed = zendeskWebhookSchema.safeParse(json.json);
  if (!parsed.success) return { ok: false, reason: firstZodIssue(parsed.error) };
  const b = parsed.data;
  // One invocation per trigger firing; UNCONFIRMED whether Zendesk's retries keep it (we assume so).
  const invocation = headerValue(headers, ZENDESK_INVOCATION_HEADER);
  if (!invocation) return { ok: false, reason: 'missing X-Zendesk-Webhook-Invocation-Id header' };
  const draft = draftOfPlaceholders(b);
  return finishEvent({ ...draft, kind: kindOf(b.event, draft.status), deliveryId: invocation, ticket: { system: ZENDESK_SYSTEM, id: b.ticket_id } });
}
