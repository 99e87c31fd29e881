// The assignee each parse result carries, side by side, so one assertion covers a help desk's
// cases (assigned, unassigned, not said).
import type { ParseResult } from '../../../ticketing/ticket-adapter.js';

/** The event's assignee (undefined when the event has none), or the refusal's reason. */
export function assigneesOf(...results: ParseResult[]): unknown[] {
  return results.map((r) => (r.ok ? r.event.assignee : `not parsed: ${r.reason}`));
}
