// Help-desk configuration: validated at start with every problem named by its variable, several
// vendors active at once, and the adapters built from it.
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { buildTicketAdapters, HELP_DESKS } from '../../ticketing/help-desks.js';
import { configProblems, expectProblems } from '../helpers/config-problems.js';
import { VENDOR_CASES } from './helpers/vendor-cases.js';

const problems = (env: Record<string, string>) => configProblems(env, HELP_DESKS);

describe('help-desk configuration', () => {
  it('without vendor variables, only the generic help desk exists and comments collapse over 30 s', () => {
    const config = loadServerConfig({}, HELP_DESKS);
    expect(config.ticketing).toEqual({ commentBurstMs: 30_000, oneClickHelpDesk: 'generic' });
    expect([...buildTicketAdapters(config, { now: Date.now }).keys()]).toEqual(['generic']);
  });

  it('activates all five vendors at once, each with its REST API', () => {
    const env = Object.assign({}, ...VENDOR_CASES.map((c) => c.env('https://helpdesk.example')));
    const config = loadServerConfig({ ...env, TETHER_COMMENT_BURST: '2m' }, HELP_DESKS);
    expect(config.ticketing.commentBurstMs).toBe(120_000);
    expect(config.ticketing.jira).toMatchObject({ label: 'tether', fields: { serial: 'customfield_10055', product: 'customfield_10056' }, serviceDeskId: '1' });
    expect(config.ticketing.servicenow?.closedStates).toEqual(['6', '7', '8']);
    const adapters = buildTicketAdapters(config, { now: Date.now });
    expect([...adapters.keys()]).toEqual(['generic', 'zendesk', 'jira', 'servicenow', 'freshdesk', 'github']);
    expect([...adapters.values()].filter((a) => a.system !== 'generic').map((a) => [a.system, a.canComment, a.commentBurstMs])).toEqual([
      ['zendesk', true, 120_000],
      ['jira', true, 120_000],
      ['servicenow', true, 120_000],
      ['freshdesk', true, 120_000],
      ['github', true, 120_000],
    ]);
  });

  it('accepts webhooks without comments when only the secret is set', () => {
    const config = loadServerConfig({ TETHER_ZENDESK_WEBHOOK_SECRET: 'x'.repeat(24) }, HELP_DESKS);
    expect(config.ticketing.zendesk).toMatchObject({ api: undefined, tag: 'tether' });
    expect(buildTicketAdapters(config, { now: Date.now }).get('zendesk')!.canComment).toBe(false);
  });

  it('names the missing secret, the missing half of a credential set and Jira\'s serial field, all at once', () => {
    const msg = problems({
      TETHER_ZENDESK_URL: 'https://acme.zendesk.com',
      TETHER_JIRA_WEBHOOK_SECRET: 'j'.repeat(20),
      TETHER_FRESHDESK_WEBHOOK_TOKEN: 'short',
      TETHER_GITHUB_REPO: 'not a repo',
    });
    expect(msg).toMatch(/^invalid configuration: /);
    expectProblems(msg, [
      'TETHER_FRESHDESK_WEBHOOK_TOKEN: must be at least 32 characters',
      'TETHER_GITHUB_REPO: must be owner/name',
      'TETHER_ZENDESK_WEBHOOK_SECRET: required when other TETHER_ZENDESK_* variables are set',
      'TETHER_ZENDESK_EMAIL: required with TETHER_ZENDESK_URL',
      'TETHER_ZENDESK_API_TOKEN: required with TETHER_ZENDESK_URL',
      'TETHER_JIRA_SERIAL_FIELD: required when TETHER_JIRA_WEBHOOK_SECRET is set',
      'TETHER_GITHUB_WEBHOOK_SECRET: required when other TETHER_GITHUB_* variables are set',
    ]);
  });

  it('refuses a malformed burst window, base URL and state list, naming each variable', () => {
    const msg = problems({ TETHER_COMMENT_BURST: 'soon', TETHER_SERVICENOW_WEBHOOK_SECRET: 's'.repeat(20), TETHER_SERVICENOW_URL: 'not a url', TETHER_SERVICENOW_CLOSED_STATES: 'resolved' });
    expectProblems(msg, [
      'TETHER_COMMENT_BURST: must be a duration such as 30s',
      'TETHER_SERVICENOW_URL:',
      'TETHER_SERVICENOW_CLOSED_STATES: must be a comma-separated list of state values',
    ]);
  });

  it('opens one-click tickets in a vendor help desk only when its webhook and REST API are configured', () => {
    expect(problems({ TETHER_ONE_CLICK_HELP_DESK: 'freshdesk' })).toContain(
      'TETHER_FRESHDESK_WEBHOOK_TOKEN: required when TETHER_ONE_CLICK_HELP_DESK is freshdesk; TETHER_FRESHDESK_URL: required when TETHER_ONE_CLICK_HELP_DESK is freshdesk',
    );
    expect(problems({ TETHER_ONE_CLICK_HELP_DESK: 'kace' })).toContain('TETHER_ONE_CLICK_HELP_DESK:');
    const env = VENDOR_CASES.find((c) => c.system === 'github')!.env('https://api.github.example');
    expect(loadServerConfig({ ...env, TETHER_ONE_CLICK_HELP_DESK: 'github' }, HELP_DESKS).ticketing.oneClickHelpDesk).toBe('github');
  });

  it('takes 0 as "post each comment at once"', () => {
    expect(loadServerConfig({ TETHER_COMMENT_BURST: '0' }, HELP_DESKS).ticketing.commentBurstMs).toBe(0);
  });
});
