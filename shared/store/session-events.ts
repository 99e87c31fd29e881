// The message published on the events channel for every session transition, and for the creation
// of a session (outcome `issued`, to ISSUED, no `from`). Relays tear down on CLOSED; the console's
// event stream shows all of them; every subscriber ignores what it does not act on.
import { z } from 'zod';
import { CLOSE_REASONS, SESSION_STATES } from '../session/session-machine.js';

export const SESSION_EVENT_OUTCOMES = ['issued', 'activated', 'reconnected', 'lost', 'closed'] as const;

export const sessionEventMessageSchema = z.object({
  sid: z.string(),
  serial: z.string(),
  /** Absent for `issued`: a new session comes from no state. */
  from: z.enum(SESSION_STATES).optional(),
  to: z.enum(SESSION_STATES),
  outcome: z.enum(SESSION_EVENT_OUTCOMES),
  reason: z.enum(CLOSE_REASONS).optional(),
  /** The relay that made the transition (connect, activate, a relay's lose); absent for others. */
  relay: z.string().optional(),
  at: z.number(),
});
export type SessionEventMessage = z.infer<typeof sessionEventMessageSchema>;

export function parseSessionEvent(raw: string): SessionEventMessage | null {
  try {
    const r = sessionEventMessageSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
