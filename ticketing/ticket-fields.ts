// Normalisation every vendor adapter shares: reading loosely typed field values (strings, numbers,
// select options, placeholder text), splitting tag lists, finding the product and the assignee, and
// finishing a TicketEvent with the `tether` tag rule. Content problems (no serial, no address) are
// ignored with a reason rather than refused, so the help desk does not retry or trip a circuit breaker.
import { z } from 'zod';
import { TETHER_TAG, ticketEventSchema, type TicketEvent, type TicketEventKind } from '../queues/ticket-event.schema.js';
import { PRODUCTS, serialSchema, type Product } from '../shared/key/tether-key.schema.js';
import type { TicketRef } from '../shared/session/session.schema.js';
import type { ParseResult } from './ticket-adapter.js';
import { firstIssue } from '../shared/errors.js';

/**
 * The normalised event requires a requester address and a product even when a ticket closes, where
 * teardown uses neither. A closing ticket whose help desk hides the address still tears down: it
 * gets this reserved (RFC 2606) address, which no mail is ever sent to.
 */
export const UNKNOWN_REQUESTER = 'requester-unknown@tether.invalid';

/** Text of a field value: strings and numbers, Jira select options ({value}), named objects ({name}). */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string') {
    const t = v.trim();
    // Empty issue-form answers and unfilled placeholders read as absent.
    return t === '' || t === '_No response_' || t === 'None' || t === 'null' ? undefined : t;
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return textOf(o.value ?? o.name ?? o.displayName);
  }
  if (Array.isArray(v) && v.length > 0) return textOf(v[0]);
  return undefined;
}

/** Tags from an array or a placeholder's text (Zendesk: space separated; Freshdesk: comma separated). */
export function splitTags(v: unknown): string[] {
  const raw = Array.isArray(v) ? v.map((t) => textOf(t) ?? '') : typeof v === 'string' ? v.split(/[\s,]+/) : [];
  return [...new Set(raw.map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 64))].slice(0, 99);
}

const PRODUCT_NAMES: Record<Product, RegExp> = {
  sma: /\b(sma|k1000|systems management)\b/i,
  sda: /\b(sda|k2000|systems deployment)\b/i,
};

/** The product named by a field value ("SMA", "KACE Systems Management Appliance") or by a tag. */
export function productOf(value: string | undefined, tags: readonly string[] = []): Product | undefined {
  for (const candidate of [value, ...tags.map((t) => t.replace(/^(product|tether)[:_-]/i, ''))]) {
    if (!candidate) continue;
    const lower = candidate.toLowerCase();
    if ((PRODUCTS as readonly string[]).includes(lower)) return lower as Product;
    if (candidate === value) {
      const named = PRODUCTS.filter((p) => PRODUCT_NAMES[p].test(candidate));
      if (named.length === 1) return named[0];
    }
  }
  return undefined;
}

/** The support engineer a ticket is assigned to, by the help desk's e-mail and login for them. */
export type Assignee = NonNullable<TicketEvent['assignee']>;

/**
 * The assignee the event carries, from the help desk's values for it: `undefined` when it said
 * nothing (no object, or every value absent: e.g. a template older than the assignee mapping; the
 * ticket's assignment stays as it is), null when it said nobody (null, or values that are null or
 * rendered empty), otherwise the e-mail and login it gave.
 */
export function assigneeOf(said: { email?: unknown; login?: unknown } | null | undefined): Assignee | null | undefined {
  if (said === null) return null;
  if (said === undefined || (said.email === undefined && said.login === undefined)) return undefined;
  const email = textOf(said.email);
  const login = textOf(said.login);
  if (!email && !login) return null;
  return { ...(email ? { email: email.slice(0, 254) } : {}), ...(login ? { login: login.slice(0, 200) } : {}) };
}

export interface EventDraft {
  kind: TicketEventKind;
  deliveryId: string;
  ticket: TicketRef;
  subject?: string | undefined;
  description?: string | undefined;
  status?: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
  serial?: string | undefined;
  product?: string | undefined;
  version?: string | undefined;
  tags: readonly string[];
  /** See assigneeOf: undefined leaves the ticket's assignment as it is. */
  assignee?: Assignee | null | undefined;
}

const emailSchema = z.email().max(254);
const clip = (s: string | undefined, max: number) => (s === undefined ? undefined : s.slice(0, max));

/** The first problem zod found, as `path: message`. */
export function firstZodIssue(error: z.ZodError): string {
  return firstIssue(error, 'event');
}

/** Applies the shared rules and validates against the queue's schema. */
export function finishEvent(d: EventDraft): ParseResult {
  const ticket = `${d.ticket.system} ticket ${d.ticket.id}`;
  if (!d.serial) return { ok: false, ignore: true, reason: `${ticket} has no appliance serial` };
  if (!serialSchema.safeParse(d.serial).success) return { ok: false, ignore: true, reason: `${ticket}: "${d.serial.slice(0, 64)}" is not an appliance serial` };
  const closing = d.kind === 'closed';
  const product = productOf(d.product, d.tags) ?? (closing ? PRODUCTS[0] : undefined);
  if (!product) return { ok: false, ignore: true, reason: `${ticket} names no appliance product (sma or sda, in its field or as a tag)` };
  let email = d.email?.trim();
  if (email && !emailSchema.safeParse(email).success) {
    if (!closing) return { ok: false, ignore: true, reason: `${ticket}: requester address "${email.slice(0, 254)}" is not a mail address` };
    email = undefined;
  }
  if (!email && !closing) return { ok: false, ignore: true, reason: `${ticket} has no requester mail address` };
  // A filled serial field is the ticket asking for a tether. (The vendor's own tag or label needs a
  // serial too, since a key is minted for one appliance; the webhook's trigger decides which tickets
  // are sent at all.)
  const tags = [...d.tags];
  if (!tags.some((t) => t.toLowerCase() === TETHER_TAG)) tags.push(TETHER_TAG);
  const candidate: TicketEvent = {
    kind: d.kind,
    deliveryId: d.deliveryId.slice(0, 200),
    ticket: d.ticket,
    subject: clip(d.subject, 1_000),
    description: clip(d.description, 20_000),
    status: clip(d.status, 64),
    requester: { email: email ?? UNKNOWN_REQUESTER, ...(d.name ? { name: d.name.slice(0, 200) } : {}) },
    appliance: { serial: d.serial, product, ...(d.version && d.version.length <= 32 ? { version: d.version } : {}) },
    tags,
    ...(d.assignee !== undefined ? { assignee: d.assignee } : {}),
  };
  const parsed = ticketEventSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, reason: firstZodIssue(parsed.error) };
  return { ok: true, event: parsed.data };
}

/** Parses JSON, refusing with the reason every adapter uses. */
export function parseJson(rawBody: Buffer): { ok: true; json: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, json: JSON.parse(rawBody.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
}

