// Where a person opens a ticket in its help desk's web UI, built from the help desk's configured
// base URL and the ticket ref its adapter made. Pure. null when the URL is not known: the generic
// help desk (no web UI we know of), a help desk configured without its URL, or a ref we cannot read.
import type { TicketingConfig } from '../shared/config.js';
import type { TicketRef } from '../shared/session/session.schema.js';

export type TicketLinker = (ticket: TicketRef) => string | null;

const SYS_ID = /^[0-9a-f]{32}$/;

/** The web origin of a GitHub REST API URL: api.github.com → github.com; GHES https://h/api/v3 → https://h. */
export function githubWebBase(apiUrl: string): string | null {
  try {
    const u = new URL(apiUrl);
    if (u.hostname === 'api.github.com') return 'https://github.com';
    return `${u.origin}${u.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/+$/, '')}`;
  } catch {
    return null;
  }
}

export function ticketLinker(t: Readonly<TicketingConfig>): TicketLinker {
  const enc = encodeURIComponent;
  return (ticket) => {
    switch (ticket.system) {
      case 'zendesk':
        return t.zendesk?.api && /^\d+$/.test(ticket.id) ? `${t.zendesk.api.url}/agent/tickets/${ticket.id}` : null;
      case 'jira':
        return t.jira?.api && /^[A-Z][A-Z0-9_]*-\d+$/.test(ticket.id) ? `${t.jira.api.url}/browse/${ticket.id}` : null;
      case 'servicenow': {
        // Refs are `<number>/<sys_id>` or the sys_id alone (servicenow-webhook.ts).
        const sysId = ticket.id.split('/').pop() ?? '';
        return t.servicenow?.api && SYS_ID.test(sysId) ? `${t.servicenow.api.url}/nav_to.do?uri=${enc(`incident.do?sys_id=${sysId}`)}` : null;
      }
      case 'freshdesk':
        return t.freshdesk?.api && /^\d+$/.test(ticket.id) ? `${t.freshdesk.api.url}/a/tickets/${ticket.id}` : null;
      case 'github': {
        // Refs are `owner/repo#number` (github-webhook.ts).
        const m = /^([\w.-]+\/[\w.-]+)#(\d+)$/.exec(ticket.id);
        const base = t.github ? githubWebBase(t.github.api?.url ?? 'https://api.github.com') : null;
        return m && base ? `${base}/${m[1]}/issues/${m[2]}` : null;
      }
      default:
        return null;
    }
  };
}
