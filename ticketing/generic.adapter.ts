// The generic help-desk adapter (our own JSON, the reference for the vendor adapters): verifies
// the signed webhook, maps it to a TicketEvent, and posts signed comments to the configured URL
// (TETHER_TICKET_COMMENT_URL) with the same headers and secret, or, in the embedded default without
// that URL, files them in a local ticket sink (TETHER_HOME/tickets/).
import { randomBytes } from 'node:crypto';
import { AppError, describeError } from '../shared/errors.js';
import type { TicketRef } from '../shared/session/session.schema.js';
import { signGeneric, verifyGeneric } from './generic-signature.js';
import { httpCall, type HttpAnswer } from './http-call.js';
import { GENERIC_SYSTEM, parseGenericWebhook } from './generic-webhook.schema.js';
import type { LocalTicketSink } from './local-ticket-sink.js';
import type { InboundWebhook, NewTicket, ParseResult, TicketAdapter, TicketComment, Verdict } from './ticket-adapter.js';

export interface GenericAdapterOptions {
  /** TETHER_WEBHOOK_SECRET; without it every webhook is refused. */
  secret: string | undefined;
  /** TETHER_TICKET_COMMENT_URL; without it no comments are posted. */
  commentUrl: string | undefined;
  now: () => number;
  timeoutMs?: number;
  /** Used when commentUrl is unset (the embedded default): comments are filed locally. */
  localSink?: LocalTicketSink | undefined;
}

/** Statuses worth another try: the help desk is busy or down, not refusing this comment. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

export function createGenericAdapter(opts: GenericAdapterOptions): TicketAdapter {
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function post(ticket: TicketRef, comment: TicketComment): Promise<void> {
    if (!opts.commentUrl && opts.localSink) {
      opts.localSink.file(ticket, comment, opts.now());
      return;
    }
    if (!opts.commentUrl || !opts.secret) {
      throw new AppError('config_invalid', 'generic help desk comments need TETHER_TICKET_COMMENT_URL and TETHER_WEBHOOK_SECRET');
    }
    const body = JSON.stringify({ ticket: { system: GENERIC_SYSTEM, id: ticket.id }, comment: { body: comment.body, internal: comment.internal } });
    let res: HttpAnswer;
    try {
      res = await httpCall({
        method: 'POST',
        url: opts.commentUrl,
        headers: { 'Content-Type': 'application/json', ...signGeneric(opts.secret, body, opts.now()) },
        body,
        timeoutMs,
      });
    } catch (cause) {
      throw new AppError('internal', `help desk unreachable: ${describeError(cause)}`, { retryable: true, cause });
    }
    if (res.status < 200 || res.status >= 300) {
      throw new AppError('internal', `help desk answered ${res.status} to the comment on ticket ${ticket.id}`, {
        retryable: isRetryableStatus(res.status),
      });
    }
  }

  return {
    system: GENERIC_SYSTEM,
    canComment: Boolean(opts.commentUrl && opts.secret) || Boolean(!opts.commentUrl && opts.localSink),
    verify(req: InboundWebhook): Verdict {
      if (!opts.secret) return { ok: false, reason: 'webhook secret is not configured (TETHER_WEBHOOK_SECRET)' };
      return verifyGeneric(opts.secret, req.headers, req.rawBody, req.receivedAt);
    },
    parse(rawBody: Buffer): ParseResult {
      return parseGenericWebhook(rawBody);
    },
    addComment(ticket: TicketRef, comment: TicketComment): Promise<void> {
      return post(ticket, comment);
    },
    /**
     * The generic help desk has no create call in its contract: we mint the ticket id and open it
     * with a public comment holding the description; the receiving side files it on first sight.
     */
    async createTicket(input: NewTicket): Promise<TicketRef> {
      const ref = { system: GENERIC_SYSTEM, id: `tether-${opts.now().toString(36)}-${randomBytes(3).toString('hex')}` };
      const who = input.requesterEmail ? ` for ${input.requesterEmail}` : '';
      const body = `${input.subject}\n\nOpened by appliance ${input.appliance.serial} (${input.appliance.product.toUpperCase()}${input.appliance.version ? ` ${input.appliance.version}` : ''})${who}.\n\n${input.description}`;
      await post(ref, { body, internal: false });
      return ref;
    },
    async isClosed(): Promise<boolean | null> {
      return null;
    },
  };
}
