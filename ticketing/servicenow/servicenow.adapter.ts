// The ServiceNow adapter: business-rule webhook verification and mapping (servicenow-webhook.ts),
// work notes (agents only) through the Table API, PATCH /api/now/table/incident/{sys_id}: the
// record's sys_id, not its INC number, which is why the ticket ref carries it. Basic auth with an
// integration user that may write incidents.
import type { TicketRef } from '../../shared/session/session.schema.js';
import type { FieldMapping } from '../help-desk-env.js';
import type { InboundWebhook, NewTicket, TicketAdapter, TicketComment } from '../ticket-adapter.js';
import { badTicketRef, vendorApi, basicAuth, notConfigured, unexpectedAnswer, type VendorAdapterOptions } from '../vendor-http.js';
import { parseServiceNow, SERVICENOW_SYSTEM, serviceNowRef, sysIdOf, verifyServiceNow } from './servicenow-webhook.js';

const TABLE = '/api/now/table/incident';

export interface ServiceNowConfig {
  webhookSecret: string;
  api?: { url: string; user: string; password: string } | undefined;
  /** Incident columns, for tickets we create. */
  fields: FieldMapping;
  /** Incident states that mean solved or closed (default 6 Resolved, 7 Closed, 8 Canceled). */
  closedStates: string[];
}

function recordOf(ref: TicketRef): string {
  const sysId = ref.system === SERVICENOW_SYSTEM ? sysIdOf(ref.id) : null;
  if (!sysId) throw badTicketRef(SERVICENOW_SYSTEM, ref.id, 'NUMBER/sys_id: the Table API needs the record\'s sys_id');
  return sysId;
}

export function createServiceNowAdapter(config: ServiceNowConfig, opts: VendorAdapterOptions): TicketAdapter {
  const { http, api, identity } = vendorApi(SERVICENOW_SYSTEM, config.api, (a) => ({ Authorization: basicAuth(a.user, a.password), Accept: 'application/json' }), opts);

  return {
    ...identity,
    verify: (req: InboundWebhook) => verifyServiceNow(config.webhookSecret, req.headers, req.rawBody, req.receivedAt),
    parse: (rawBody) => parseServiceNow(config.closedStates, rawBody),
    async addComment(ticket: TicketRef, comment: TicketComment): Promise<void> {
      const sysId = recordOf(ticket);
      // Journal fields append; "comments" (Additional comments) would be visible to the caller.
      await api('work notes').request('PATCH', `${TABLE}/${sysId}`, comment.internal ? { work_notes: comment.body } : { comments: comment.body });
    },
    /** caller_id is a reference to sys_user (a sys_id), so the requester's address goes into the description. */
    async createTicket(input: NewTicket): Promise<TicketRef> {
      const f = config.fields;
      if (!f.serial) throw notConfigured(SERVICENOW_SYSTEM, 'tickets opened by tether', ['TETHER_SERVICENOW_SERIAL_FIELD']);
      const who = input.requesterEmail ? `\n\nRequester: ${input.requesterEmail}` : '';
      const record: Record<string, string> = { short_description: input.subject, description: `${input.description}${who}`, [f.serial]: input.appliance.serial };
      if (f.product) record[f.product] = input.appliance.product;
      if (f.version && input.appliance.version) record[f.version] = input.appliance.version;
      const res = await api('tickets opened by tether').request('POST', TABLE, record);
      const result = (res.json as { result?: { sys_id?: unknown; number?: unknown } } | null)?.result;
      if (typeof result?.sys_id !== 'string' || !/^[0-9a-f]{32}$/.test(result.sys_id)) throw unexpectedAnswer(SERVICENOW_SYSTEM, 'result.sys_id');
      return serviceNowRef(result.sys_id, typeof result.number === 'string' ? result.number : undefined);
    },
    async isClosed(ticket: TicketRef): Promise<boolean | null> {
      if (!http) return null;
      const res = await http.request('GET', `${TABLE}/${recordOf(ticket)}?sysparm_fields=state`);
      const state = (res.json as { result?: { state?: unknown } } | null)?.result?.state;
      return typeof state === 'string' || typeof state === 'number' ? config.closedStates.includes(String(state)) : null;
    },
  };
}
