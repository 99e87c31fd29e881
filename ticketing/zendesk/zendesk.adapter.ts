// The Zendesk adapter: webhook verification and mapping (zendesk-webhook.ts), comments as private
// notes through "Update Ticket" (PUT /api/v2/tickets/{id}.json with comment.public false: the
// default, true, would mail the requester), ticket creation and status lookups, with API-token auth
// ("{email}/token:{token}").
import type { TicketRef } from '../../shared/session/session.schema.js';
import type { FieldMapping } from '../help-desk-env.js';
import type { InboundWebhook, NewTicket, TicketAdapter, TicketComment } from '../ticket-adapter.js';
import { badTicketRef, vendorApi, basicAuth, notConfigured, unexpectedAnswer, type VendorAdapterOptions } from '../vendor-http.js';
import { parseZendesk, verifyZendesk, ZENDESK_SYSTEM } from './zendesk-webhook.js';

export interface ZendeskConfig {
  webhookSecret: string;
  api?: { url: string; email: string; token: string } | undefined;
  tag: string;
  /** Ticket field ids, for tickets we create (the webhook body carries the values). */
  fields: FieldMapping;
}

function ticketIdOf(ref: TicketRef): string {
  if (ref.system !== ZENDESK_SYSTEM || !/^\d{1,20}$/.test(ref.id)) throw badTicketRef(ZENDESK_SYSTEM, ref.id, 'a numeric Zendesk ticket id');
  return ref.id;
}

export function createZendeskAdapter(config: ZendeskConfig, opts: VendorAdapterOptions): TicketAdapter {
  const { http, api, identity } = vendorApi(ZENDESK_SYSTEM, config.api, (a) => ({ Authorization: basicAuth(`${a.email}/token`, a.token), Accept: 'application/json' }), opts);

  return {
    ...identity,
    verify: (req: InboundWebhook) => verifyZendesk(config.webhookSecret, req.headers, req.rawBody, req.receivedAt),
    parse: parseZendesk,
    async addComment(ticket: TicketRef, comment: TicketComment): Promise<void> {
      const id = ticketIdOf(ticket);
      await api('comments').request('PUT', `/api/v2/tickets/${id}.json`, { ticket: { comment: { body: comment.body, public: !comment.internal } } });
    },
    async createTicket(input: NewTicket): Promise<TicketRef> {
      const f = config.fields;
      if (!f.serial) throw notConfigured(ZENDESK_SYSTEM, 'tickets opened by tether', ['TETHER_ZENDESK_SERIAL_FIELD']);
      const custom = [
        f.serial ? { id: Number(f.serial), value: input.appliance.serial } : undefined,
        f.product ? { id: Number(f.product), value: input.appliance.product } : undefined,
        f.version && input.appliance.version ? { id: Number(f.version), value: input.appliance.version } : undefined,
      ].filter((c) => c !== undefined);
      const requester = input.requesterEmail ? { requester: { email: input.requesterEmail, name: input.requesterEmail.split('@')[0] } } : {};
      const res = await api('tickets opened by tether').request('POST', '/api/v2/tickets.json', {
        ticket: { subject: input.subject, comment: { body: input.description }, ...requester, tags: [config.tag], custom_fields: custom },
      });
      const id = (res.json as { ticket?: { id?: unknown } } | null)?.ticket?.id;
      if (typeof id !== 'number' && typeof id !== 'string') throw unexpectedAnswer(ZENDESK_SYSTEM, 'ticket.id');
      return { system: ZENDESK_SYSTEM, id: String(id) };
    },
    async isClosed(ticket: TicketRef): Promise<boolean | null> {
      if (!http) return null;
      const res = await http.request('GET', `/api/v2/tickets/${ticketIdOf(ticket)}.json`);
      const status = (res.json as { ticket?: { status?: unknown } } | null)?.ticket?.status;
      return typeof status === 'string' ? status === 'solved' || status === 'closed' : null;
    },
  };
}
