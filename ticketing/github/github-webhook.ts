// GitHub Issues' inbound side: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
// no timestamp (replays are caught by X-GitHub-Delivery), `issues` events only. Issues have no
// custom fields: serial, product, version and the contact address come from our issue form's
// sections (docs/help-desks.md) or from labels such as `serial:K1000-5F3A9C` and `sma`; the
// assignee is the issue's (by login).
import { z } from 'zod';
import type { TicketEventKind } from '../../queues/ticket-event.schema.js';
import { assigneeOf, finishEvent, firstZodIssue, parseJson, textOf, type Assignee } from '../ticket-fields.js';
import type { ParseResult, Verdict, WebhookHeaders } from '../ticket-adapter.js';
import { equalBytes, headerValue, hmacSha256 } from '../webhook-crypto.js';

export const GITHUB_SYSTEM = 'github';
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';
export const GITHUB_EVENT_HEADER = 'x-github-event';
export const GITHUB_DELIVERY_HEADER = 'x-github-delivery';

/** The issue form's headings (.github/ISSUE_TEMPLATE/tether.yml in docs/help-desks.md). */
export const FORM_HEADINGS = { serial: 'Serial number', product: 'Product', version: 'Version', email: 'Contact email' } as const;

export function verifyGitHub(secret: string, headers: WebhookHeaders, rawBody: Buffer): Verdict {
  const signature = headerValue(headers, GITHUB_SIGNATURE_HEADER);
  if (!signature) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(signature);
  if (!m) return { ok: false, reason: 'X-Hub-Signature-256 must be sha256=<64 hex digits>' };
  if (!equalBytes(Buffer.from(m[1]!, 'hex'), hmacSha256(secret, rawBody))) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}

export const githubIssuesSchema = z.object({
  action: z.string().min(1).max(64),
  issue: z.object({
    number: z.number().int().positive(),
    title: z.string().max(1_000).optional(),
    body: z.string().max(100_000).nullish(),
    state: z.enum(['open', 'closed']),
    labels: z.array(z.object({ name: z.string() })).default([]),
    assignee: z.object({ login: z.string() }).nullish(),
    assignees: z.array(z.object({ login: z.string() })).optional(),
  }),
  repository: z.object({ full_name: z.string().regex(/^[\w.-]+\/[\w.-]+$/), private: z.boolean().optional() }),
});

/** The answer under `### <heading>` in an issue-form body (the form renders each field that way). */
export function formSection(body: string, heading: string): string | undefined {
  const lines = body.replace(/\r\n/g, '\n').split('\n');
  const start = lines.findIndex((l) => /^#{1,6}\s+/.test(l) && l.replace(/^#{1,6}\s+/, '').trim().toLowerCase() === heading.toLowerCase());
  if (start < 0) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^#{1,6}\s+/.test(l));
  return textOf((end < 0 ? rest : rest.slice(0, end)).join('\n'));
}

/** Our form's fields that are present as headings but left empty (`_No response_`), none if it is not our form. */
function emptyFormFields(body: string, labels: readonly string[]): string[] {
  const hasHeading = (h: string) => new RegExp(`^#{1,6}\\s+${h}\\s*$`, 'im').test(body);
  if (!hasHeading(FORM_HEADINGS.serial)) return [];
  const fallbacks: Record<string, string> = { serial: 'serial', product: 'product' };
  return (['serial', 'product', 'email'] as const)
    .filter((f) => hasHeading(FORM_HEADINGS[f]) && formSection(body, FORM_HEADINGS[f]) === undefined && !(fallbacks[f] && labelValue(labels, fallbacks[f]!)))
    .map((f) => FORM_HEADINGS[f]);
}

function labelValue(labels: readonly string[], key: string): string | undefined {
  const hit = labels.find((l) => l.toLowerCase().startsWith(`${key}:`));
  return hit ? textOf(hit.slice(key.length + 1)) : undefined;
}

/**
 * Any other action is `updated`, `assigned` and `unassigned` included: every event carries the issue
 * as it is afterwards, so its assignee is the ticket's assignment from then on.
 */
function kindOf(action: string, state: 'open' | 'closed'): TicketEventKind {
  if (action === 'closed' || action === 'deleted' || action === 'transferred' || state === 'closed') return 'closed';
  return action === 'opened' ? 'created' : 'updated';
}

/**
 * GitHub's `issue.assignee` is the first of `issue.assignees`; a ticket maps one engineer, so it is
 * that one (by login). Null when nobody is assigned; undefined when the payload has neither field.
 */
function issueAssignee(issue: { assignee?: { login: string } | null | undefined; assignees?: { login: string }[] | undefined }): Assignee | null | undefined {
  if (issue.assignee === undefined && issue.assignees === undefined) return undefined;
  const first = issue.assignee ?? issue.assignees?.[0];
  return assigneeOf(first ? { login: first.login } : null);
}

export function githubRef(repo: string, issue: number): { system: string; id: string } {
  return { system: GITHUB_SYSTEM, id: `${repo}#${issue}` };
}

export function parseGitHub(rawBody: Buffer, headers: WebhookHeaders = {}): ParseResult {
  const event = headerValue(headers, GITHUB_EVENT_HEADER);
  if (!event) return { ok: false, reason: 'missing X-GitHub-Event header' };
  if (event !== 'issues') return { ok: false, ignore: true, reason: `GitHub ${event} event: only issues events matter` };
  const delivery = headerValue(headers, GITHUB_DELIVERY_HEADER);
  if (!delivery) return { ok: false, reason: 'missing X-GitHub-Delivery header' };
  if (rawBody.subarray(0, 8).toString('latin1') === 'payload=') return { ok: false, reason: 'form-encoded payload: set the webhook\'s content type to application/json' };
  const json = parseJson(rawBody);
  if (!json.ok) return json;
  const parsed = githubIssuesSchema.safeParse(json.json);
  if (!parsed.success) return { ok: false, reason: firstZodIssue(parsed.error) };
  const b = parsed.data;
  const ref = githubRef(b.repository.full_name, b.issue.number);
  // Issue comments are never internal: on a public repository they would publish the requester's
  // address and the appliance serial.
  if (b.repository.private !== true) return { ok: false, ignore: true, reason: `${b.repository.full_name} is not a private repository; tether comments would be public` };
  const body = b.issue.body ?? '';
  const labels = b.issue.labels.map((l) => l.name);
  const kind = kindOf(b.action, b.issue.state);
  // Issue forms enforce `required:` only in public repositories: in the private ones we serve an
  // empty field arrives as "_No response_". Say on the issue which field is missing.
  const empty = kind === 'closed' ? [] : emptyFormFields(body, labels);
  if (empty.length > 0) {
    const reason = `${ref.system} ticket ${ref.id}: the issue form left ${empty.join(', ')} empty`;
    const comment = `Tether: no remote-support key yet, because the issue form has no ${empty.join(' and no ')}. Edit the issue and fill in ${empty.length > 1 ? 'these fields' : 'that field'}; a key follows as soon as it is complete.`;
    return { ok: false, ignore: true, reason, tell: { ticket: ref, comment, deliveryId: delivery } };
  }
  return finishEvent({
    kind,
    deliveryId: delivery,
    ticket: ref,
    subject: b.issue.title,
    description: body || undefined,
    status: b.issue.state,
    email: formSection(body, FORM_HEADINGS.email),
    serial: formSection(body, FORM_HEADINGS.serial) ?? labelValue(labels, 'serial'),
    product: formSection(body, FORM_HEADINGS.product) ?? labelValue(labels, 'product'),
    version: formSection(body, FORM_HEADINGS.version) ?? labelValue(labels, 'version'),
    tags: labels.filter((l) => l.length <= 64),
    assignee: issueAssignee(b.issue),
  });
}
