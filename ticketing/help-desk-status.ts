// What each help desk can do with the configuration given: receive webhooks, post comments, and
// what is missing for the rest. The server's start-up lines and GET /v1/help-desks say the same.
import { HELP_DESK_RULES, type ServerConfig } from '../shared/config.js';
import { GENERIC_SYSTEM } from './generic-webhook.schema.js';

export interface HelpDeskStatus {
  system: string;
  /** Its webhook secret is set: deliveries are accepted. */
  configured: boolean;
  /** Comments (and one-click tickets) can be posted: a URL and credentials, or the local sink. */
  comments: boolean;
  /** Variables to set for webhooks and comments. */
  missing: string[];
}

export function helpDeskStatuses(config: Readonly<ServerConfig>, opts: { localSink?: boolean } = {}): HelpDeskStatus[] {
  const genericComments = Boolean(config.ticketCommentUrl && config.api.webhookSecret) || Boolean(!config.ticketCommentUrl && opts.localSink);
  const generic: HelpDeskStatus = {
    system: GENERIC_SYSTEM,
    configured: Boolean(config.api.webhookSecret),
    comments: genericComments,
    missing: [...(config.api.webhookSecret ? [] : ['TETHER_WEBHOOK_SECRET']), ...(config.ticketCommentUrl || opts.localSink ? [] : ['TETHER_TICKET_COMMENT_URL'])],
  };
  const vendors = HELP_DESK_RULES.map((rule): HelpDeskStatus => {
    const system = rule.secret.split('_')[1]!.toLowerCase() as 'zendesk' | 'jira' | 'servicenow' | 'freshdesk' | 'github';
    const desk = config.ticketing[system];
    const missing = desk === undefined ? [rule.secret, ...rule.needs] : desk.api ? [] : [...rule.api];
    return { system, configured: desk !== undefined, comments: Boolean(desk?.api), missing };
  });
  return [generic, ...vendors];
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
