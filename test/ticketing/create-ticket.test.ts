// Ticket creation (one-click) and status lookups per vendor, against the stand-in REST APIs: exact
// method, path and body, and the ticket ref each returns (ServiceNow's with its sys_id).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { buildTicketAdapters, HELP_DESKS } from '../../ticketing/help-desks.js';
import type { TicketAdapters } from '../../ticketing/ticket-adapter.js';
import { startVendorApi, type VendorApi } from './helpers/vendor-api.js';
import { sysIdOfSeed, VENDOR_CASES, type VendorCase } from './helpers/vendor-cases.js';

const apis = {} as Record<VendorCase['system'], VendorApi>;
let adapters: TicketAdapters;
const input = {
  subject: 'Remote access for appliance K1000-5F3A9C',
  description: 'Opened from the appliance console.',
  requesterEmail: 'it-ops@customer.example',
  appliance: { serial: 'K1000-5F3A9C', product: 'sma' as const, version: '13.2' },
};

beforeAll(async () => {
  for (const c of VENDOR_CASES) apis[c.system] = await startVendorApi(c.api);
  const config = loadServerConfig(Object.assign({}, ...VENDOR_CASES.map((c) => c.env(apis[c.system].url))), HELP_DESKS);
  adapters = buildTicketAdapters(config, { now: Date.now });
});
afterAll(async () => {
  for (const a of Object.values(apis)) await a.close();
});

const last = (system: VendorCase['system']) => {
  const r = apis[system].accepted.at(-1)!;
  return { method: r.method, path: r.path, json: r.json };
};

/** The adapter answers `id` for the new ticket, after exactly this POST to its help desk's API. */
async function expectCreated(system: VendorCase['system'], id: string, path: string, json: unknown): Promise<void> {
  expect(await adapters.get(system)!.createTicket(input)).toEqual({ system, id });
  expect(last(system)).toEqual({ method: 'POST', path, json });
}

describe('ticket creation', () => {
  it('Zendesk: POST /api/v2/tickets.json with the requester, the tag and the serial custom field', async () => {
    await expectCreated('zendesk', '90001', '/api/v2/tickets.json', {
      ticket: {
        subject: input.subject,
        comment: { body: input.description },
        requester: { email: 'it-ops@customer.example', name: 'it-ops' },
        tags: ['tether'],
        custom_fields: [
          { id: 360012345678, value: 'K1000-5F3A9C' },
          { id: 360012345679, value: 'sma' },
        ],
      },
    });
  });

  it('Jira Service Management: POST /rest/servicedeskapi/request with the configured desk, request type and fields', async () => {
    await expectCreated('jira', 'SUP-42', '/rest/servicedeskapi/request', {
      serviceDeskId: '1',
      requestTypeId: '10',
      requestFieldValues: {
        summary: input.subject,
        description: 'Opened from the appliance console.\n\nRequester: it-ops@customer.example',
        customfield_10055: 'K1000-5F3A9C',
        customfield_10056: { value: 'SMA' },
        customfield_10057: '13.2',
      },
    });
  });

  it('ServiceNow: POST /api/now/table/incident, and the ref carries the new record\'s sys_id', async () => {
    await expectCreated('servicenow', `INC0090001/${sysIdOfSeed(90001)}`, '/api/now/table/incident', { short_description: input.subject, description: 'Opened from the appliance console.\n\nRequester: it-ops@customer.example', u_serial_number: 'K1000-5F3A9C' });
  });

  it('Freshdesk: POST /api/v2/tickets, open (2) with the tag and the serial custom field', async () => {
    await expectCreated('freshdesk', '90001', '/api/v2/tickets', {
      subject: input.subject,
      description: '<p>Opened from the appliance console.</p>',
      email: 'it-ops@customer.example',
      status: 2,
      priority: 2,
      tags: ['tether'],
      custom_fields: { cf_serial_number: 'K1000-5F3A9C' },
    });
  });

  it('GitHub: POST /repos/{repo}/issues with the label and a body our issue-form parser reads back', async () => {
    expect(await adapters.get('github')!.createTicket(input)).toEqual({ system: 'github', id: 'acme/support#90001' });
    const sent = last('github');
    expect(sent).toMatchObject({ method: 'POST', path: '/repos/acme/support/issues', json: { title: input.subject, labels: ['tether'] } });
    expect((sent.json as { body: string }).body).toContain('### Serial number\n\nK1000-5F3A9C\n\n### Product\n\nSMA');
  });

  it('asks each help desk whether a ticket is closed, through its read API', async () => {
    expect(await adapters.get('zendesk')!.isClosed({ system: 'zendesk', id: '5' })).toBe(false);
    expect(await adapters.get('jira')!.isClosed({ system: 'jira', id: 'SUP-5' })).toBe(true);
    expect(await adapters.get('servicenow')!.isClosed({ system: 'servicenow', id: `INC0000005/${sysIdOfSeed(5)}` })).toBe(true);
    expect(await adapters.get('freshdesk')!.isClosed({ system: 'freshdesk', id: '5' })).toBe(true);
    expect(await adapters.get('github')!.isClosed({ system: 'github', id: 'acme/support#5' })).toBe(true);
    for (const a of Object.values(apis)) expect(a.violations).toEqual([]);
  });
});
