// Jira Service Management's inbound side: admin webhooks with a secret sign the raw body as
// `X-Hub-Signature: sha256=<hex HMAC-SHA256>` (WebSub style; the method is read from the prefix)
// with no timestamp, so replays are caught by X-Atlassian-Webhook-Identifier. The body is Jira's
// own issue JSON; serial, product, version and a fallback address come from configured fields, the
// assignee from `fields.assignee`.
import { z } from 'zod';
import type { TicketEventKind } from '../../queues/ticket-event.schema.js';
import type { FieldMapping } from '../help-desk-env.js';
import { assigneeOf, finishEvent, firstZodIssue, parseJson, splitTags, textOf } from '../ticket-fields.js';
import type { ParseResult, Verdict, WebhookHeaders } from '../ticket-adapter.js';
import { equalBytes, headerValue, hmacSha256 } from '../webhook-crypto.js';

export const JIRA_SYSTEM = 'jira';

/** Issue field ids (customfield_NNNNN) read from the webhook's issue.fields. */
export type JiraFields = FieldMapping & { serial: string; email?: string | undefined };
export const JIRA_SIGNATURE_HEADER = 'x-hub-signature';
export const JIRA_DELIVERY_HEADER = 'x-atlassian-webhook-identifier';

export function verifyJira(secret: string, headers: WebhookHeaders, rawBody: Buffer): Verdict {
  const signature = headerValue(headers, JIRA_SIGNATURE_HEADER);
  if (!signature) return { ok: false, reason: 'missing X-Hub-Signature header' };
  const eq = signature.indexOf('=');
  const method = eq > 0 ? signature.slice(0, eq) : '';
  if (method !== 'sha256') return { ok: false, reason: 'X-Hub-Signature must be sha256=<hex> (the only method Jira uses today)' };
  const hex = signature.slice(eq + 1);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return { ok: false, reason: 'X-Hub-Signature must be sha256=<64 hex digits>' };
  if (!equalBytes(Buffer.from(hex, 'hex'), hmacSha256(secret, rawBody))) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}

export const jiraWebhookSchema = z.object({
  webhookEvent: z.string().min(1).max(100),
  timestamp: z.number().optional(),
  issue: z
    .object({
      id: z.union([z.string().regex(/^\d{1,20}$/), z.number().int()]).transform(String),
      key: z.string().regex(/^[A-Z][A-Z0-9_]{0,30}-\d{1,10}$/, 'issue.key must be a Jira issue key such as SUP-123'),
      fields: z.record(z.string(), z.unknown()).default({}),
    })
    .optional(),
});

const EVENT_KIND: Record<string, TicketEventKind> = {
  'jira:issue_created': 'created',
  'jira:issue_updated': 'updated',
  'jira:issue_deleted': 'closed',
};

/** Atlassian Document Format (v3 payloads) or wiki text (v2): UNCONFIRMED which one webhooks carry, so both. */
export function plainText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (!v || typeof v !== 'object') return undefined;
  const parts: string[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: unknown; text?: unknown; content?: unknown };
    if (typeof n.text === 'string') parts.push(n.text);
    if (Array.isArray(n.content)) n.content.forEach(walk);
    if (n.type === 'paragraph' || n.type === 'heading') parts.push('\n');
  };
  walk(v);
  return parts.join('').replace(/\n{3,}/g, '\n\n').trim() || undefined;
}

/** Status category "done" or a resolution: names vary by workflow, these two do not. */
export function isDone(fields: Record<string, unknown>): boolean {
  const status = fields.status as { statusCategory?: { key?: unknown } } | undefined;
  const resolution = fields.resolution;
  return status?.statusCategory?.key === 'done' || (resolution !== null && resolution !== undefined);
}

export function parseJira(fieldMap: JiraFields, rawBody: Buffer, headers: WebhookHeaders = {}): ParseResult {
  const json = parseJson(rawBody);
  if (!json.ok) return json;
  const parsed = jiraWebhookSchema.safeParse(json.json);
  if (!parsed.success) return { ok: false, reason: firstZodIssue(parsed.error) };
  const b = parsed.data;
  const base = EVENT_KIND[b.webhookEvent];
  if (!base || !b.issue) return { ok: false, ignore: true, reason: `Jira event ${b.webhookEvent} is not an issue being created, updated or deleted` };
  const f = b.issue.fields;
  // Same across Jira's retries; a body-derived id only when a proxy dropped the header.
  const delivery = headerValue(headers, JIRA_DELIVERY_HEADER) ?? (b.timestamp ? `${b.webhookEvent}:${b.issue.id}:${b.timestamp}` : undefined);
  if (!delivery) return { ok: false, reason: 'missing X-Atlassian-Webhook-Identifier header' };
  const reporter = f.reporter as { emailAddress?: unknown; displayName?: unknown } | undefined;
  const status = f.status as { name?: unknown } | undefined;
  const assignee = f.assignee as { emailAddress?: unknown; accountId?: unknown } | null | undefined;
  return finishEvent({
    kind: base === 'updated' && isDone(f) ? 'closed' : base,
    deliveryId: delivery,
    ticket: { system: JIRA_SYSTEM, id: b.issue.key },
    subject: textOf(f.summary),
    description: plainText(f.description),
    status: textOf(status?.name),
    // Atlassian account privacy often hides emailAddress (UNCONFIRMED how often for JSM customers).
    email: textOf(reporter?.emailAddress) ?? (fieldMap.email ? textOf(f[fieldMap.email]) : undefined),
    name: textOf(reporter?.displayName),
    serial: textOf(f[fieldMap.serial]),
    product: fieldMap.product ? textOf(f[fieldMap.product]) : undefined,
    version: fieldMap.version ? textOf(f[fieldMap.version]) : undefined,
    tags: splitTags(f.labels),
    // Null when unassigned. Privacy settings often hide emailAddress; accountId is always there, so
    // it is the login an engineer is mapped by (`jira:<accountId>`).
    assignee: assigneeOf(assignee && { email: assignee.emailAddress, login: assignee.accountId }),
  });
}
