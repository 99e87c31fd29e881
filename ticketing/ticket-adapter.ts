// The help-desk adapter interface: every help desk (the generic one; Zendesk, Jira Service
// Management, ServiceNow, Freshdesk, GitHub Issues as plug-ins) verifies its own webhook signatures,
// maps its payload to a TicketEvent, posts comments back and creates tickets. Adapters do no
// queueing; api/ and workers/ call them.
import type { TicketEvent } from '../queues/ticket-event.schema.js';
import type { Product } from '../shared/key/tether-key.schema.js';
import type { TicketRef } from '../shared/session/session.schema.js';

export type { TicketEvent };

export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** An inbound webhook as the API received it: the raw bytes are what vendors sign. */
export interface InboundWebhook {
  headers: WebhookHeaders;
  rawBody: Buffer;
  /** When it arrived (ms), for replay windows. */
  receivedAt: number;
}

/** Refusals carry a short, secret-free reason for the 4xx answer. */
export type Verdict = { ok: true } | { ok: false; reason: string };
/**
 * `ignore`: a well-formed delivery that is none of our business (a ticket without a serial, a
 * GitHub ping): answered 200 so the help desk neither retries nor counts it as a failure.
 */
export type ParseResult =
  | { ok: true; event: TicketEvent }
  | { ok: false; reason: string; ignore?: true; tell?: { ticket: TicketRef; comment: string; deliveryId: string } };
// `tell`: an ignored delivery whose ticket should hear why (e.g. a form field left empty), once per delivery.

export interface TicketComment {
  body: string;
  /** Internal note (agents only) rather than a public reply. */
  internal: boolean;
}

export interface NewTicket {
  subject: string;
  description: string;
  requesterEmail?: string | undefined;
  appliance: { serial: string; product: Product; version?: string | undefined };
}

export interface TicketAdapter {
  /** The `system` of the ticket refs it owns (`generic`, `zendesk`, ...), and its webhook path. */
  readonly system: string;
  /** Whether outbound comments are configured; without it the pipeline does not queue any. */
  readonly canComment: boolean;
  /**
   * Comments to one ticket arriving within this window go out as one (the vendor's rate limits);
   * 0 or absent: each comment at once.
   */
  readonly commentBurstMs?: number;
  /** How long a delivery id is remembered (seconds); absent: the API's default (7 days). */
  readonly dedupeTtlS?: number;
  /** Signature and replay checks over the raw request; never throws. */
  verify(req: InboundWebhook): Verdict;
  /** Maps the raw body (and, for vendors with a delivery header, the headers) to the event; never throws. */
  parse(rawBody: Buffer, headers?: WebhookHeaders): ParseResult;
  /** Throws AppError: retryable for timeouts, 408, 429 and 5xx; not retryable for other refusals. */
  addComment(ticket: TicketRef, comment: TicketComment): Promise<void>;
  createTicket(input: NewTicket): Promise<TicketRef>;
  /** null when the help desk cannot be asked. */
  isClosed(ticket: TicketRef): Promise<boolean | null>;
}

export type TicketAdapters = ReadonlyMap<string, TicketAdapter>;

export function adapterRegistry(...adapters: TicketAdapter[]): TicketAdapters {
  return new Map(adapters.map((a) => [a.system, a]));
}
