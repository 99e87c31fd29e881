// What each help desk of the registry can do with the configuration given: receive webhooks, post
// comments, and what is missing for the rest. The server's start-up lines and GET /v1/help-desks
// say the same.
import type { ServerConfig } from '../shared/config.js';
import { GENERIC_SYSTEM } from './generic-webhook.schema.js';
import type { HelpDesk, HelpDeskStatus } from './help-desk.js';
import { HELP_DESKS } from './help-desks.js';

export function helpDeskStatuses(config: Readonly<ServerConfig>, opts: { localSink?: boolean } = {}, helpDesks: readonly HelpDesk[] = HELP_DESKS): HelpDeskStatus[] {
  return helpDesks.map((d) => d.status(config, opts));
}

/** The start-up lines: the help desks that work, and the configured ones that are incomplete. */
export function helpDeskLines(statuses: readonly HelpDeskStatus[], opts: { ticketsDir?: string } = {}): string[] {
  const ready = statuses.filter((s) => s.configured);
  const what = (s: HelpDeskStatus) => {
    if (!s.comments) return 'webhooks only';
    return s.system === GENERIC_SYSTEM && opts.ticketsDir ? `webhooks, comments filed in ${opts.ticketsDir}` : 'webhooks, comments';
  };
  const lines = [`help desks: ${ready.length ? ready.map((s) => `${s.system} (${what(s)})`).join(', ') : 'none can receive webhooks'}`];
  for (const s of statuses) {
    // A vendor never mentioned is simply not used; the generic one is always there, so it is named.
    if (s.missing.length === 0 || (!s.configured && s.system !== GENERIC_SYSTEM)) continue;
    const effect = s.configured ? 'no comments or one-click tickets' : 'its webhooks are refused';
    lines.push(`help desk ${s.system} is incomplete: set ${s.missing.join(', ')} (until then ${effect})`);
  }
  return lines;
}
