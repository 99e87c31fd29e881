// Links to tickets in their help desk's web UI, from the configured base URLs: one per vendor,
// null for the generic help desk, an unconfigured vendor or a ref the vendor would not make.
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { HELP_DESKS } from '../../ticketing/help-desks.js';
import { githubWebBase } from '../../ticketing/github/github.config.js';
import { ticketLinker } from '../../ticketing/ticket-links.js';
import { VENDOR_CASES } from './helpers/vendor-cases.js';

describe('ticket links', () => {
  it('links each configured help desk to its own ticket page', () => {
    const env = Object.assign({}, ...VENDOR_CASES.map((c) => c.env('https://helpdesk.example')));
    const link = ticketLinker(loadServerConfig(env, HELP_DESKS).ticketing);
    const sysId = 'a'.repeat(32);
    expect(link({ system: 'zendesk', id: '4711' })).toBe(`${loadServerConfig(env, HELP_DESKS).ticketing.zendesk!.api!.url}/agent/tickets/4711`);
    expect(link({ system: 'jira', id: 'SUP-12' })).toBe(`${loadServerConfig(env, HELP_DESKS).ticketing.jira!.api!.url}/browse/SUP-12`);
    expect(link({ system: 'servicenow', id: `INC0010023/${sysId}` })).toBe(
      `${loadServerConfig(env, HELP_DESKS).ticketing.servicenow!.api!.url}/nav_to.do?uri=incident.do%3Fsys_id%3D${sysId}`,
    );
    expect(link({ system: 'freshdesk', id: '88' })).toBe(`${loadServerConfig(env, HELP_DESKS).ticketing.freshdesk!.api!.url}/a/tickets/88`);
    expect(link({ system: 'github', id: 'acme/support#9' })).toMatch(/\/acme\/support\/issues\/9$/);
  });

  it('has no link for the generic help desk, an unconfigured one, or a ref it would not make', () => {
    const link = ticketLinker(loadServerConfig({}, HELP_DESKS).ticketing);
    expect(link({ system: 'generic', id: '4711' })).toBeNull();
    expect(link({ system: 'zendesk', id: '4711' })).toBeNull();
    const configured = ticketLinker(loadServerConfig({ TETHER_ZENDESK_WEBHOOK_SECRET: 'z'.repeat(20), TETHER_ZENDESK_URL: 'https://acme.zendesk.com', TETHER_ZENDESK_EMAIL: 'a@acme.example', TETHER_ZENDESK_API_TOKEN: 't' }, HELP_DESKS).ticketing);
    expect(configured({ system: 'zendesk', id: '4711' })).toBe('https://acme.zendesk.com/agent/tickets/4711');
    expect(configured({ system: 'zendesk', id: '47"><script>' })).toBeNull();
  });

  it('finds the GitHub web origin from its API URL', () => {
    expect(githubWebBase('https://api.github.com')).toBe('https://github.com');
    expect(githubWebBase('https://ghe.vendor.example/api/v3')).toBe('https://ghe.vendor.example');
  });
});
