// The help-desk registry (ticketing/help-desks.ts) is the one list config loading, the webhook
// routes, the start-up status and the one-click choice read: every entry shows up in each, and a
// sixth help desk added to a registry gets its variables checked, its config made, its status line
// and its webhook route, with nothing else changed.
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApiServer } from '../../api/api-server.js';
import { loadServerConfig, type ServerConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { GENERIC_SYSTEM } from '../../ticketing/generic-webhook.schema.js';
import { baseUrl, secret } from '../../ticketing/help-desk-env.js';
import { helpDeskLines, helpDeskStatuses } from '../../ticketing/help-desk-status.js';
import { vendorHelpDesk, type HelpDesk } from '../../ticketing/help-desk.js';
import { buildTicketAdapters, HELP_DESKS, VENDOR_SYSTEMS } from '../../ticketing/help-desks.js';
import type { TicketAdapter } from '../../ticketing/ticket-adapter.js';
import { ticketLinker } from '../../ticketing/ticket-links.js';
import { configProblems } from '../helpers/config-problems.js';
import { VENDOR_CASES } from './helpers/vendor-cases.js';

/** Acme: a made-up sixth help desk whose webhooks carry a shared token and never a ticket of ours. */
interface AcmeConfig {
  token: string;
  api?: { url: string } | undefined;
}
const acmeAdapter = (c: AcmeConfig): TicketAdapter => ({
  system: 'acme',
  canComment: Boolean(c.api),
  verify: (req) => (req.headers['x-acme-token'] === c.token ? { ok: true } : { ok: false, reason: 'bad token' }),
  parse: () => ({ ok: false, reason: 'acme tickets carry no serial', ignore: true }),
  addComment: async () => undefined,
  createTicket: async () => ({ system: 'acme', id: '1' }),
  isClosed: async () => null,
});
const acme = vendorHelpDesk({
  system: 'acme',
  switchedOnBy: { TETHER_ACME_WEBHOOK_TOKEN: secret },
  api: { TETHER_ACME_URL: baseUrl },
  env: {},
  config: (e): AcmeConfig | undefined => (e.TETHER_ACME_WEBHOOK_TOKEN ? { token: e.TETHER_ACME_WEBHOOK_TOKEN, api: e.TETHER_ACME_URL ? { url: e.TETHER_ACME_URL } : undefined } : undefined),
  createAdapter: acmeAdapter,
  ticketLink: (c, id) => (c.api ? `${c.api.url}/t/${id}` : null),
});
const WITH_ACME = [...HELP_DESKS, acme];
const ACME_TOKEN = 'acme-token-0123456789abcdef';

let redis: Redis;
const apps: FastifyInstance[] = [];
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  for (const app of apps) await app.close();
  redis?.disconnect();
});

/** The API as serve builds it, over `helpDesks`' adapters; only refusals and ignored deliveries are sent, so Redis keeps nothing. */
async function apiWith(config: Readonly<ServerConfig>, helpDesks: readonly HelpDesk[]): Promise<FastifyInstance> {
  const app = await buildApiServer({ config, redis, prefix: 'registry-test:', logger: createLogger('registry-test', 'silent'), adapters: buildTicketAdapters(config, { now: Date.now }, helpDesks) });
  apps.push(app);
  return app;
}

describe('the help-desk registry', () => {
  it('lists the generic help desk first and each vendor once', () => {
    const systems = HELP_DESKS.map((d) => d.system);
    expect(systems).toEqual([GENERIC_SYSTEM, 'zendesk', 'jira', 'servicenow', 'freshdesk', 'github']);
    expect(VENDOR_SYSTEMS).toEqual(systems.slice(1));
  });

  it('names every entry in the start-up status, in registry order', () => {
    expect(helpDeskStatuses(loadServerConfig({}, HELP_DESKS)).map((s) => s.system)).toEqual(HELP_DESKS.map((d) => d.system));
  });

  it('offers every entry, and nothing else, as the one-click help desk', () => {
    for (const { system } of HELP_DESKS) expect(configProblems({ TETHER_ONE_CLICK_HELP_DESK: system }, HELP_DESKS)).not.toContain('TETHER_ONE_CLICK_HELP_DESK: Invalid');
    expect(configProblems({ TETHER_ONE_CLICK_HELP_DESK: 'acme' }, HELP_DESKS)).toContain('TETHER_ONE_CLICK_HELP_DESK: Invalid');
  });

  it('mounts a webhook route for every entry once it is configured', async () => {
    const env = Object.assign({ TETHER_WEBHOOK_SECRET: 'w'.repeat(32) }, ...VENDOR_CASES.map((c) => c.env('https://helpdesk.example')));
    const app = await apiWith(loadServerConfig(env, HELP_DESKS), HELP_DESKS);
    for (const { system } of HELP_DESKS) {
      const res = await app.inject({ method: 'POST', url: `/v1/webhooks/${system}`, headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect([system, res.statusCode, res.json().error.code]).toEqual([system, 401, 'unauthorized']);
    }
  });
});

describe('a sixth help desk in a registry', () => {
  it('has its variables checked with the rest: shape, presence, and one-click', () => {
    expect(configProblems({ TETHER_ACME_URL: 'not a url' }, WITH_ACME)).toContain('TETHER_ACME_URL:');
    expect(configProblems({ TETHER_ACME_URL: 'https://acme.example' }, WITH_ACME)).toContain('TETHER_ACME_WEBHOOK_TOKEN: required when other TETHER_ACME_* variables are set');
    expect(configProblems({ TETHER_ONE_CLICK_HELP_DESK: 'acme' }, WITH_ACME)).toBe(
      'invalid configuration: TETHER_ACME_WEBHOOK_TOKEN: required when TETHER_ONE_CLICK_HELP_DESK is acme; TETHER_ACME_URL: required when TETHER_ONE_CLICK_HELP_DESK is acme',
    );
  });

  it('gets its config made, its status line, and the one-click choice', () => {
    const config = loadServerConfig({ TETHER_ACME_WEBHOOK_TOKEN: ACME_TOKEN, TETHER_ACME_URL: 'https://acme.example/', TETHER_ONE_CLICK_HELP_DESK: 'acme' }, WITH_ACME);
    expect(config.ticketing).toMatchObject({ oneClickHelpDesk: 'acme', acme: { token: ACME_TOKEN, api: { url: 'https://acme.example' } } });
    expect(helpDeskLines(helpDeskStatuses(config, {}, WITH_ACME))[0]).toBe('help desks: acme (webhooks, comments)');
    const webhooksOnly = loadServerConfig({ TETHER_ACME_WEBHOOK_TOKEN: ACME_TOKEN }, WITH_ACME);
    expect(helpDeskLines(helpDeskStatuses(webhooksOnly, {}, WITH_ACME))).toContain('help desk acme is incomplete: set TETHER_ACME_URL (until then no comments or one-click tickets)');
  });

  it('gets its ticket links from its own entry', () => {
    const config = loadServerConfig({ TETHER_ACME_WEBHOOK_TOKEN: ACME_TOKEN, TETHER_ACME_URL: 'https://acme.example/' }, WITH_ACME);
    expect(ticketLinker(config.ticketing, WITH_ACME)({ system: 'acme', id: '42' })).toBe('https://acme.example/t/42');
    expect(ticketLinker(config.ticketing, HELP_DESKS)({ system: 'acme', id: '42' })).toBeNull();
  });

  it('gets its webhook route: its adapter verifies and answers; without it in the registry, 404', async () => {
    const config = loadServerConfig({ TETHER_ACME_WEBHOOK_TOKEN: ACME_TOKEN }, WITH_ACME);
    const post = (app: FastifyInstance, token: string) => app.inject({ method: 'POST', url: '/v1/webhooks/acme', headers: { 'content-type': 'application/json', 'x-acme-token': token }, payload: '{}' });
    const app = await apiWith(config, WITH_ACME);
    expect((await post(app, ACME_TOKEN)).json()).toEqual({ status: 'ignored', reason: 'acme tickets carry no serial' });
    expect((await post(app, 'wrong')).statusCode).toBe(401);
    expect((await post(await apiWith(config, HELP_DESKS), ACME_TOKEN)).statusCode).toBe(404);
  });
});
