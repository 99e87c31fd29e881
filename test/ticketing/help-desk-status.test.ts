// Start-up names only the help desks that can work, and each configured-but-incomplete one with
// what is missing (the same facts GET /v1/help-desks gives).
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { HELP_DESKS } from '../../ticketing/help-desks.js';
import { helpDeskLines, helpDeskStatuses } from '../../ticketing/help-desk-status.js';

const base = { TETHER_HOME: '/tmp/tether-status-test' };

describe('help desk status at start-up', () => {
  it('a bare embedded default: the generic help desk is named as incomplete (no secret: webhooks refused)', () => {
    const lines = helpDeskLines(helpDeskStatuses(loadServerConfig({ ...base }, HELP_DESKS), { localSink: true }), { ticketsDir: '/tmp/t' });
    expect(lines).toEqual(['help desks: none can receive webhooks', 'help desk generic is incomplete: set TETHER_WEBHOOK_SECRET (until then its webhooks are refused)']);
  });

  it('with a secret and the local sink, generic works fully; a vendor with only its webhook secret is named with what it lacks', () => {
    const config = loadServerConfig({ ...base, TETHER_WEBHOOK_SECRET: 'x'.repeat(32), TETHER_ZENDESK_WEBHOOK_SECRET: 'z'.repeat(32) }, HELP_DESKS);
    const lines = helpDeskLines(helpDeskStatuses(config, { localSink: true }), { ticketsDir: '/tmp/t' });
    expect(lines[0]).toBe('help desks: generic (webhooks, comments filed in /tmp/t), zendesk (webhooks only)');
    expect(lines.slice(1)).toEqual(['help desk zendesk is incomplete: set TETHER_ZENDESK_URL, TETHER_ZENDESK_EMAIL, TETHER_ZENDESK_API_TOKEN (until then no comments or one-click tickets)']);
  });

  it('vendors nobody configured are not listed at all', () => {
    const config = loadServerConfig({ ...base, TETHER_WEBHOOK_SECRET: 'x'.repeat(32), TETHER_TICKET_COMMENT_URL: 'http://127.0.0.1:9/c' }, HELP_DESKS);
    expect(helpDeskLines(helpDeskStatuses(config))).toEqual(['help desks: generic (webhooks, comments)']);
  });
});
