// What the audit bridge does for enrolled appliances, password custody and one-click, as a pure
// function of one audit entry: the lifecycle core's effects of those kinds (shared/session/lifecycle.ts)
// made concrete with the serial and ticket: a key that was used or ended leaves the appliance's inbox;
// a closed session's support password is destroyed; a ticket closed under a session stops being the
// serial's open one-click ticket. Kept apart from session-reactions.ts, whose jobs it does not touch.
import { effectsOfEntry } from '../shared/session/lifecycle.js';
import type { SessionRecord, TicketRef } from '../shared/session/session.schema.js';
import type { AuditEntry } from '../shared/store/audit.store.js';

export type ApplianceReaction =
  | { kind: 'remove-from-inbox'; serial: string }
  | { kind: 'destroy-password' }
  | { kind: 'forget-open-ticket'; serial: string; ticket: TicketRef };

export function applianceReactionsTo(entry: AuditEntry, session: SessionRecord | null): ApplianceReaction[] {
  const serial = entry.fields.serial || session?.serial;
  const out: ApplianceReaction[] = [];
  for (const e of effectsOfEntry(entry.type, entry.fields.from)) {
    switch (e.kind) {
      case 'clear-inbox':
        if (serial) out.push({ kind: 'remove-from-inbox', serial });
        break;
      case 'destroy-password':
        out.push({ kind: 'destroy-password' });
        break;
      case 'forget-open-ticket':
        if (serial && session?.ticket && (entry.fields.reason ?? session.reason) === e.onlyIfReason) out.push({ kind: 'forget-open-ticket', serial, ticket: session.ticket });
        break;
    }
  }
  return out;
}
