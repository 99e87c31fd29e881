// What the audit bridge does for enrolled appliances and password custody, as a pure function of
// one audit entry: a key that was used or ended leaves the appliance's inbox; a closed session's
// support password is destroyed; a ticket closed under a session stops being the serial's open
// one-click ticket. Kept apart from session-reactions.ts, whose jobs it does not touch.
import type { SessionRecord, TicketRef } from '../shared/session/session.schema.js';
import type { AuditEntry } from '../shared/store/audit.store.js';

export type ApplianceReaction =
  | { kind: 'remove-from-inbox'; serial: string }
  | { kind: 'destroy-password' }
  | { kind: 'forget-open-ticket'; serial: string; ticket: TicketRef };

export function applianceReactionsTo(entry: AuditEntry, session: SessionRecord | null): ApplianceReaction[] {
  const serial = entry.fields.serial || session?.serial;
  const out: ApplianceReaction[] = [];
  switch (entry.type) {
    case 'session.activated':
      if (serial) out.push({ kind: 'remove-from-inbox', serial });
      break;
    case 'session.closed':
      out.push({ kind: 'destroy-password' });
      if (serial) out.push({ kind: 'remove-from-inbox', serial });
      if (serial && session?.ticket && (entry.fields.reason ?? session.reason) === 'ticket_closed') {
        out.push({ kind: 'forget-open-ticket', serial, ticket: session.ticket });
      }
      break;
  }
  return out;
}
