// ServiceNow's inbound side. ServiceNow has no outbound webhook of its own: our business rule
// (docs/help-desks.md) posts the incident as JSON and signs it like the generic webhook,
// `X-Tether-Timestamp: <unix s>` and `X-Tether-Signature: sha256=<HMAC-SHA256 of "<ts>.<body>">`,
// where the digest may be base64 (what GlideCertificateEncryption.generateMac returns) or hex.
import { z } from 'zod';
import type { TicketEventKind } from '../../queues/ticket-event.schema.js';
import { REPLAY_WINDOW_S, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../generic-signature.js';
import { assigneeOf, finishEvent, firstZodIssue, parseJson, splitTags, textOf } from '../ticket-fields.js';
import type { ParseResult, Verdict, WebhookHeaders } from '../ticket-adapter.js';
import { decodeSha256Digest, equalBytes, headerValue, hmacSha256 } from '../webhook-crypto.js';

export const SERVICENOW_SYSTEM = 'servicenow';
const SYS_ID = /^[0-9a-f]{32}$/;

export function verifyServiceNow(secret: string, headers: WebhookHeaders, rawBody: Buffer, nowMs: number): Verdict {
  const timestamp = headerValue(headers, TIMESTAMP_HEADER);
  const signature = headerValue(headers, SIGNATURE_HEADER);
  if (!signature) return { ok: false, reason: 'missing X-Tether-Signature header' };
  if (!timestamp) return { ok: false, reason: 'missing X-Tether-Timestamp header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Tether-Timestamp must be unix seconds' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > REPLAY_WINDOW_S) return { ok: false, reason: 'stale timestamp: more than 5 minutes off' };
  const got = signature.startsWith('sha256=') ? decodeSha256Digest(signature.slice(7)) : null;
  if (!got) return { ok: false, reason: 'X-Tether-Signature must be sha256=<base64 or hex HMAC-SHA256>' };
  if (!equalBytes(got, hmacSha256(secret, `${timestamp}.`, rawBody))) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}

const text = z.union([z.string().max(20_000), z.number()]).nullish();

/** What our business rule sends: standard incident columns plus the delivery id it composes. */
export const serviceNowWebhookSchema = z.object({
  /** `<sys_id>-<sys_mod_count>`: every update of the record counts up sys_mod_count. */
  delivery_id: z.string().min(1).max(200),
  event: z.enum(['created', 'updated', 'deleted']).optional(),
  sys_id: z.string().regex(SYS_ID, 'sys_id must be the record\'s 32-hex sys_id'),
  number: z.string().regex(/^[A-Z]{2,8}\d{1,12}$/, 'number must be a record number such as INC0010023').optional(),
  state: z.union([z.string().max(32), z.number()]).transform(String),
  short_description: text,
  description: text,
  caller_email: text,
  caller_name: text,
  /** `assigned_to`'s email and user_name: both empty while unassigned, absent from rules older than the assignee mapping. */
  assignee_email: text,
  assignee_login: text,
  serial: text,
  product: text,
  version: text,
  tags: z.union([z.string().max(10_000), z.array(z.string())]).optional(),
});

/** The ticket ref carries the sys_id (the Table API needs it) after the number people read. */
export function serviceNowRef(sysId: string, number?: string): { system: string; id: string } {
  return { system: SERVICENOW_SYSTEM, id: number ? `${number}/${sysId}` : sysId };
}

/** The sys_id of a ref made by serviceNowRef; null for anything else (a bare INC number has none). */
export function sysIdOf(refId: string): string | null {
  const last = refId.split('/').pop() ?? '';
  return SYS_ID.test(last) ? last : null;
}

export function parseServiceNow(closedStates: readonly string[], rawBody: Buffer): ParseResult {
  const json = parseJson(rawBody);
  if (!json.ok) return json;
  const parsed = serviceNowWebhookSchema.safeParse(json.json);
  if (!parsed.success) return { ok: false, reason: firstZodIssue(parsed.error) };
  const b = parsed.data;
  // States are instance-configurable; the defaults are 6 Resolved, 7 Closed, 8 Canceled.
  const done = b.event === 'deleted' || closedStates.includes(b.state.trim());
  const kind: TicketEventKind = done ? 'closed' : b.event === 'created' ? 'created' : 'updated';
  return finishEvent({
    kind,
    deliveryId: b.delivery_id,
    ticket: serviceNowRef(b.sys_id, b.number),
    subject: textOf(b.short_description),
    description: textOf(b.description),
    status: b.state,
    email: textOf(b.caller_email),
    name: textOf(b.caller_name),
    serial: textOf(b.serial),
    product: textOf(b.product),
    version: textOf(b.version),
    tags: splitTags(b.tags),
    assignee: assigneeOf({ email: b.assignee_email, login: b.assignee_login }),
  });
}
