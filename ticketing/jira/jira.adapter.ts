// The Jira Service Management adapter: webhook verification and mapping (jira-webhook.ts),
// comments through the service-desk API (POST /rest/servicedeskapi/request/{key}/comment) with
// `public: false` always sent explicitly, since a comment added without it, or through the
// platform API without a restriction, is a public reply mailed to the customer. Basic auth with an
// Atlassian account email and API token.
import type { TicketRef } from '../../shared/session/session.schema.js';
import type { InboundWebhook, NewTicket, TicketAdapter, TicketComment } from '../ticket-adapter.js';
import { badTicketRef, vendorApi, basicAuth, notConfigured, unexpectedAnswer, type VendorAdapterOptions } from '../vendor-http.js';
import { isDone, JIRA_SYSTEM, parseJira, verifyJira, type JiraFields } from './jira-webhook.js';

export interface JiraConfig {
  webhookSecret: string;
  api?: { url: string; email: string; token: string } | undefined;
  label: string;
  fields: JiraFields;
  serviceDeskId?: string | undefined;
  requestTypeId?: string | undefined;
}

function issueKeyOf(ref: TicketRef): string {
  if (ref.system !== JIRA_SYSTEM || !/^[A-Z][A-Z0-9_]{0,30}-\d{1,10}$/.test(ref.id)) throw badTicketRef(JIRA_SYSTEM, ref.id, 'a Jira issue key such as SUP-123');
  return ref.id;
}

export function createJiraAdapter(config: JiraConfig, opts: VendorAdapterOptions): TicketAdapter {
  const { http, api, identity } = vendorApi(JIRA_SYSTEM, config.api, (a) => ({ Authorization: basicAuth(a.email, a.token), Accept: 'application/json' }), opts);

  return {
    ...identity,
    verify: (req: InboundWebhook) => verifyJira(config.webhookSecret, req.headers, req.rawBody),
    parse: (rawBody, headers) => parseJira(config.fields, rawBody, headers),
    async addComment(ticket: TicketRef, comment: TicketComment): Promise<void> {
      const key = issueKeyOf(ticket);
      await api('comments').request('POST', `/rest/servicedeskapi/request/${key}/comment`, { body: comment.body, public: !comment.internal });
    },
    /**
     * A customer request of the configured service desk and request type. Jira Cloud's
     * raiseOnBehalfOf takes an account id, not an address, so the requester's address goes into
     * TETHER_JIRA_EMAIL_FIELD when configured and into the description otherwise. The serial,
     * product and version fields must be on the request type's form (text fields; a select field
     * would need {"value": ...}: UNCONFIRMED for your site).
     */
    async createTicket(input: NewTicket): Promise<TicketRef> {
      if (!config.serviceDeskId || !config.requestTypeId) throw notConfigured(JIRA_SYSTEM, 'tickets opened by tether', ['TETHER_JIRA_SERVICE_DESK_ID', 'TETHER_JIRA_REQUEST_TYPE_ID']);
      const f = config.fields;
      const who = input.requesterEmail && !f.email ? `\n\nRequester: ${input.requesterEmail}` : '';
      const values: Record<string, string | { value: string }> = { summary: input.subject, description: `${input.description}${who}`, [f.serial]: input.appliance.serial };
      // The product field is a select list (SMA | SDA): JSM takes an option as {"value": …}, never a bare string.
      if (f.product) values[f.product] = { value: input.appliance.product.toUpperCase() };
      if (f.version && input.appliance.version) values[f.version] = input.appliance.version;
      if (f.email && input.requesterEmail) values[f.email] = input.requesterEmail;
      const res = await api('tickets opened by tether').request('POST', '/rest/servicedeskapi/request', {
        serviceDeskId: config.serviceDeskId,
        requestTypeId: config.requestTypeId,
        requestFieldValues: values,
      });
      const key = (res.json as { issueKey?: unknown } | null)?.issueKey;
      if (typeof key !== 'string') throw unexpectedAnswer(JIRA_SYSTEM, 'issueKey');
      return { system: JIRA_SYSTEM, id: key };
    },
    async isClosed(ticket: TicketRef): Promise<boolean | null> {
      if (!http) return null;
      const res = await http.request('GET', `/rest/api/3/issue/${issueKeyOf(ticket)}?fields=status,resolution`);
      const fields = (res.json as { fields?: Record<string, unknown> } | null)?.fields;
      return fields ? isDone(fields) : null;
    },
  };
}
