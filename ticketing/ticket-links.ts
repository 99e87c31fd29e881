// Where a person opens a ticket in its help desk's web UI: each help desk of the registry builds its
// own links from its configured base URL and the ticket ref its adapter made (ticketLink in
// ticketing/<vendor>/<vendor>.config.ts). Pure. null when the URL is not known: the generic help
// desk (no web UI we know of), a help desk configured without its URL, or a ref it cannot read.
import type { TicketingConfig } from '../shared/config.js';
import type { TicketRef } from '../shared/session/session.schema.js';
import type { HelpDesk } from './help-desk.js';
import { HELP_DESKS } from './help-desks.js';

export type TicketLinker = (ticket: TicketRef) => string | null;

export function ticketLinker(t: Readonly<TicketingConfig>, helpDesks: readonly HelpDesk[] = HELP_DESKS): TicketLinker {
  return (ticket) => helpDesks.find((d) => d.system === ticket.system)?.link(t, ticket.id) ?? null;
}
