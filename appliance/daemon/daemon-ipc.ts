// Messages the daemon sends to the command that spawned it (over the IPC channel), until that
// command has its answer and disconnects. Parsed on receipt: the channel carries JSON.
import { z } from 'zod';
import { ERROR_CODES } from '../../shared/errors.js';

export const daemonMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('connected'), sessionId: z.string(), relay: z.string(), ports: z.array(z.number().int()) }),
  z.object({ type: z.literal('retrying'), error: z.string(), delayMs: z.number() }),
  z.object({ type: z.literal('stopped'), code: z.enum(ERROR_CODES).nullable(), reason: z.string(), byCustomer: z.boolean() }),
]);
export type DaemonMessage = z.infer<typeof daemonMessageSchema>;

/** Resolves once the message is handed to the channel (or dropped when there is none). */
export type DaemonSend = (message: DaemonMessage) => Promise<void> | void;


export { GO_MESSAGE, STANDBY_FLAG } from './early-spawn.js';
