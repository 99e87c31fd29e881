// Builds the help-desk adapters the configuration switches on: the generic one always (it refuses
// every webhook until TETHER_WEBHOOK_SECRET is set), each vendor when its webhook secret is set.
// Entry points call this once and hand the same registry to the API and the workers.
import type { ServerConfig } from '../shared/config.js';
import { createFreshdeskAdapter } from './freshdesk/freshdesk.adapter.js';
import { createGenericAdapter } from './generic.adapter.js';
import type { LocalTicketSink } from './local-ticket-sink.js';
import { createGitHubAdapter } from './github/github.adapter.js';
import { createJiraAdapter } from './jira/jira.adapter.js';
import { createServiceNowAdapter } from './servicenow/servicenow.adapter.js';
import { adapterRegistry, type TicketAdapter, type TicketAdapters } from './ticket-adapter.js';
import type { VendorAdapterOptions } from './vendor-http.js';
import { createZendeskAdapter } from './zendesk/zendesk.adapter.js';

export interface HelpDeskOptions {
  now: () => number;
  /** The embedded default's local stand-in for the generic help desk's comment URL. */
  localSink?: LocalTicketSink | undefined;
  /** Tests shorten the vendors' in-process waits. */
  http?: VendorAdapterOptions['http'];
}

export function buildTicketAdapters(config: Readonly<ServerConfig>, opts: HelpDeskOptions): TicketAdapters {
  const t = config.ticketing;
  const vendor: VendorAdapterOptions = { now: opts.now, commentBurstMs: t.commentBurstMs, ...(opts.http ? { http: opts.http } : {}) };
  const adapters: TicketAdapter[] = [createGenericAdapter({ secret: config.api.webhookSecret, commentUrl: config.ticketCommentUrl, now: opts.now, localSink: opts.localSink })];
  if (t.zendesk) adapters.push(createZendeskAdapter(t.zendesk, vendor));
  if (t.jira) adapters.push(createJiraAdapter(t.jira, vendor));
  if (t.servicenow) adapters.push(createServiceNowAdapter(t.servicenow, vendor));
  if (t.freshdesk) adapters.push(createFreshdeskAdapter(t.freshdesk, vendor));
  if (t.github) adapters.push(createGitHubAdapter(t.github, vendor));
  return adapterRegistry(...adapters);
}
