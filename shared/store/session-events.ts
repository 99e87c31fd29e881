// The message published on the events channel for every session transition. Relays tear down on
// CLOSED; workers react to the rest.
import { z } from 'zod';
import { CLOSE_REASONS, SESSION_STATES } from '../session/session-machine.js';

export const sessionEventMessageSchema = z.object({
  sid: z.string(),
  serial: z.string(),
  from: z.enum(SESSION_STATES),
  to: z.enum(SESSION_STATES),
  outcome: z.enum(['activated', 'reconnected', 'lost', 'closed']),
  reason: z.enum(CLOSE_REASONS).optional(),
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
