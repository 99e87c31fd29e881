// The session record as stored in Redis, parsed on every read (Redis data is untrusted and may
// have been written by an older version).
import { z } from 'zod';
import { productSchema, serialSchema } from '../key/tether-key.schema.js';
import { CLOSE_REASONS, SESSION_STATES } from './session-machine.js';

const intString = z.coerce.number().int();
const optionalInt = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : Number(v)));
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

export const ticketRefSchema = z.object({ system: z.string().min(1).max(32), id: z.string().min(1).max(128) });
export type TicketRef = z.infer<typeof ticketRefSchema>;

export const sessionRecordSchema = z.object({
  id: z.string().min(8),
  jti: z.string().min(8),
  serial: serialSchema,
  product: productSchema,
  version: optionalText,
  state: z.enum(SESSION_STATES),
  reason: z
    .enum(CLOSE_REASONS)
    .or(z.literal(''))
    .optional()
    .transform((v) => (v ? v : undefined)),
  ports: z.string().transform((v) => v.split(',').filter(Boolean).map(Number)),
  /** base64 raw Ed25519 public key of the tunnel credential. */
  tunnelPub: z.string().min(40),
  /** base64 raw Ed25519 public key the appliance registered on activation; reconnects use only it. */
  appliancePub: optionalText,
  issuedAt: intString,
  expiresAt: intString,
  activatedAt: optionalInt,
  connectedAt: optionalInt,
  closedAt: optionalInt,
  ticket: optionalText.transform((v) => {
    if (!v) return undefined;
    const i = v.indexOf(':');
    return { system: v.slice(0, i), id: v.slice(i + 1) };
  }),
  /** The ticket's subject as the help desk sent it when it provisioned the session (untrusted text). */
  ticketSubject: optionalText.optional(),
  email: optionalText,
  relayId: optionalText,
});

export type SessionRecord = z.infer<typeof sessionRecordSchema>;

/** The JSON shape the CLI and API print (no secrets). */
export function sessionView(s: SessionRecord) {
  return {
    id: s.id,
    serial: s.serial,
    product: s.product,
    version: s.version,
    state: s.state,
    reason: s.reason,
    ports: s.ports,
    issuedAt: new Date(s.issuedAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    activatedAt: s.activatedAt ? new Date(s.activatedAt).toISOString() : undefined,
    closedAt: s.closedAt ? new Date(s.closedAt).toISOString() : undefined,
    ticket: s.ticket ? { ...s.ticket, ...(s.ticketSubject ? { subject: s.ticketSubject } : {}) } : undefined,
    email: s.email,
  };
}
