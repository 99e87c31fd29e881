// The generic help desk's local stand-in for the embedded default: with no TETHER_TICKET_COMMENT_URL,
// `scripts/up` files every comment under TETHER_HOME/tickets/<ticket id>.txt (one file per ticket,
// comments appended), the way captured mail lands in the outbox, so a newcomer's first one-click
// and ticket flow work with nothing to set up. Files are owner-only: comments may name serials.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TicketRef } from '../shared/session/session.schema.js';
import type { TicketComment } from './ticket-adapter.js';

export interface LocalTicketSink {
  dir: string;
  /** Appends the comment to the ticket's file; returns the file. */
  file(ticket: TicketRef, comment: TicketComment, now: number): string;
}

/** Ticket ids become file names: anything outside [A-Za-z0-9._-] is replaced. */
function fileNameOf(id: string): string {
  return `${id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120)}.txt`;
}

export function localTicketSink(dir: string, onFiled?: (ticket: TicketRef, file: string) => void): LocalTicketSink {
  return {
    dir,
    file(ticket, comment, now) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, fileNameOf(ticket.id));
      const kind = comment.internal ? 'internal note' : 'public comment';
      appendFileSync(file, `--- ${new Date(now).toISOString()} ${kind} ---\n${comment.body}\n\n`, { mode: 0o600 });
      onFiled?.(ticket, file);
      return file;
    },
  };
}
