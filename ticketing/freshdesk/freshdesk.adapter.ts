// The Freshdesk adapter: shared-token webhook check and mapping (freshdesk-webhook.ts), private
// notes through POST /api/v2/tickets/{id}/notes with `private: true` (HTML body), ticket creation
// and status lookups. Basic auth with the API key as user name and "X" as password.
import { AppError } from '../../shared/errors.js';
import type { TicketRef } from '../../shared/session/session.schema.js';
import type { FieldMapping } from '../help-desk-env.js';
import type { InboundWebhook, NewTicket, TicketAdapter, TicketComment } from '../ticket-adapter.js';
import { badTicketRef, vendorApi, basicAuth, notConfigured, unexpectedAnswer, type VendorAdapterOptions } from '../vendor-http.js';
import { FRESHDESK_DEDUPE_TTL_S, FRESHDESK_SYSTEM, isFreshdeskDone, parseFreshdesk, verifyFreshdesk } from './freshdesk-webhook.js';

const STATUS_OPEN = 2;
const PRIORITY_MEDIUM = 2;

export interface FreshdeskConfig {
  webhookToken: string;
  api?: { url: string; apiKey: string } | undefined;
  tag: string;
  /** Custom field names (cf_...), for tickets we create. */
  fields: FieldMapping;
}

function ticketIdOf(ref: TicketRef): string {
  if (ref.system !== FRESHDESK_SYSTEM || !/^\d{1,20}$/.test(ref.id)) throw badTicketRef(FRESHDESK_SYSTEM, ref.id, 'a numeric Freshdesk ticket id');
  return ref.id;
}

/** Freshdesk note and description bodies are HTML. */
export function toHtml(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return escaped
    .split(/\n{2,}/)
    .map((p) => `<p>${p.replace(/\n/g, '<br>')}</p>`)
    .join('');
}

export function createFreshdeskAdapter(config: FreshdeskConfig, opts: VendorAdapterOptions): TicketAdapter {
  const { http, api, identity } = vendorApi(FRESHDESK_SYSTEM, config.api, (a) => ({ Authorization: basicAuth(a.apiKey, 'X'), Accept: 'application/json' }), opts);

  return {
    ...identity,
    dedupeTtlS: FRESHDESK_DEDUPE_TTL_S,
    verify: (req: InboundWebhook) => verifyFreshdesk(config.webhookToken, req.headers),
    parse: parseFreshdesk,
    async addComment(ticket: TicketRef, comment: TicketComment): Promise<void> {
      const id = ticketIdOf(ticket);
      await api('notes').request('POST', `/api/v2/tickets/${id}/notes`, { body: toHtml(comment.body), private: comment.internal });
    },
    async createTicket(input: NewTicket): Promise<TicketRef> {
      const f = config.fields;
      if (!f.serial) throw notConfigured(FRESHDESK_SYSTEM, 'tickets opened by tether', ['TETHER_FRESHDESK_SERIAL_FIELD']);
      if (!input.requesterEmail) throw new AppError('usage', 'a Freshdesk ticket needs the requester\'s mail address');
      const custom: Record<string, string> = { [f.serial]: input.appliance.serial };
      if (f.product) custom[f.product] = input.appliance.product.toUpperCase();
      if (f.version && input.appliance.version) custom[f.version] = input.appliance.version;
      const res = await api('tickets opened by tether').request('POST', '/api/v2/tickets', {
        subject: input.subject,
        description: toHtml(input.description),
        email: input.requesterEmail,
        status: STATUS_OPEN,
        priority: PRIORITY_MEDIUM,
        tags: [config.tag],
        custom_fields: custom,
      });
      const id = (res.json as { id?: unknown } | null)?.id;
      if (typeof id !== 'number') throw unexpectedAnswer(FRESHDESK_SYSTEM, 'id');
      return { system: FRESHDESK_SYSTEM, id: String(id) };
    },
    async isClosed(ticket: TicketRef): Promise<boolean | null> {
      if (!http) return null;
      const res = await http.request('GET', `/api/v2/tickets/${ticketIdOf(ticket)}`);
      const status = (res.json as { status?: unknown } | null)?.status;
      return typeof status === 'number' ? isFreshdeskDone(String(status)) : null;
    },
  };
}
