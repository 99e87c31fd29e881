// The message published on the events channel for every session transition, for the creation of a
// session (outcome `issued`, to ISSUED, no `from`) and for a moved expiry (outcome `extended`, from
// and to its unchanged state). Relays act on them (lifecycle.ts effectsOfOutcome); the console's
// event stream shows all of them; every subscriber ignores what it does not act on.
import { z } from 'zod';
import { CLOSE_REASONS, SESSION_STATES } from '../session/session-machine.js';
import { parseStoredJson } from './stored-json.js';

export const SESSION_EVENT_OUTCOMES = ['issued', 'activated', 'reconnected', 'lost', 'closed', 'extended'] as const;

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
  /** The new expiry (epoch ms) of an `extended` session (from and to are its unchanged state). */
  expiresAt: z.number().optional(),
  at: z.number(),
});
export type SessionEventMessage = z.infer<typeof sessionEventMessageSchema>;

export function parseSessionEvent(raw: string): SessionEventMessage | null {
  return parseStoredJson(sessionEventMessageSchema, raw);
}
