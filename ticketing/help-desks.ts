// The help-desk registry: every help desk tether knows, generic first. Entry points pass it to
// loadServerConfig (each vendor's variables), and build from it the adapters the configuration
// switches on, which they hand to both the API (webhook routes, one-click) and the workers; the
// start-up lines and GET /v1/help-desks list it. A new help desk is its folder plus one line here.
import type { ServerConfig } from '../shared/config.js';
import { freshdeskHelpDesk } from './freshdesk/freshdesk.config.js';
import { genericHelpDesk } from './generic.config.js';
import { GENERIC_SYSTEM } from './generic-webhook.schema.js';
import { gitHubHelpDesk } from './github/github.config.js';
import type { ConfigOf, HelpDesk, HelpDeskOptions, VendorHelpDesk } from './help-desk.js';
import { jiraHelpDesk } from './jira/jira.config.js';
import { serviceNowHelpDesk } from './servicenow/servicenow.config.js';
import { adapterRegistry, type TicketAdapters } from './ticket-adapter.js';
import { zendeskHelpDesk } from './zendesk/zendesk.config.js';

export const HELP_DESKS = [genericHelpDesk, zendeskHelpDesk, jiraHelpDesk, serviceNowHelpDesk, freshdeskHelpDesk, gitHubHelpDesk] as const satisfies readonly HelpDesk[];

/** `config.ticketing.<system>`, typed for every vendor of the registry (shared/config.ts names none). */
type VendorConfigs = { [D in (typeof HELP_DESKS)[number] as D extends VendorHelpDesk<string, unknown> ? D['system'] : never]: ConfigOf<D> };
declare module '../shared/config.js' {
  interface HelpDeskConfigs extends VendorConfigs {}
}

/** The systems POST /v1/webhooks/:vendor serves (the generic help desk has its own route). */
export const VENDOR_SYSTEMS = HELP_DESKS.map((d) => d.system).filter((s) => s !== GENERIC_SYSTEM) as [string, ...string[]];

/** The adapters of the help desks the configuration switches on: the generic one always. */
export function buildTicketAdapters(config: Readonly<ServerConfig>, opts: HelpDeskOptions, helpDesks: readonly HelpDesk[] = HELP_DESKS): TicketAdapters {
  return adapterRegistry(...helpDesks.flatMap((d) => d.adapter(config, opts) ?? []));
}
