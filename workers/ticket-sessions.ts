// Which live session belongs to a ticket: the serial's current live session, when its ticket ref
// is this ticket. Shared by the ticket-events and key-issue workers.
import type { SessionRecord, TicketRef } from '../shared/session/session.schema.js';
import type { SessionStore } from '../shared/store/session.store.js';

export function sameTicket(a: TicketRef | undefined, b: TicketRef | undefined): boolean {
  return Boolean(a && b && a.system === b.system && a.id === b.id);
}

export async function liveSessionOfTicket(sessions: SessionStore, ticket: TicketRef, serial: string): Promise<SessionRecord | null> {
  const live = await sessions.findLiveBySerial(serial);
  return live && sameTicket(live.ticket, ticket) ? live : null;
}
