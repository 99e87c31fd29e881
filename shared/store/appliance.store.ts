// Enrolled appliances: serial → product, version and identity public keys (Ed25519 for request
// signatures, X25519 for sealing); single-use enrolment tokens with a TTL; request nonces for replay
// protection; the inbox of pushed keys; the open one-click ticket of each serial. The records and
// what every appliance store does; implementations: redis-appliance.store.ts, memory/memory-appliance.store.ts.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { productSchema, serialSchema, type Product } from '../key/tether-key.schema.js';
import { ticketRefSchema, type TicketRef } from '../session/session.schema.js';

export const applianceRecordSchema = z.object({
  serial: serialSchema,
  product: productSchema,
  version: z.string().min(1).max(32),
  /** base64url raw Ed25519 public key. */
  signPub: z.string().length(43),
  /** base64url raw X25519 public key. */
  sealPub: z.string().length(43),
  enrolledAt: z.coerce.number().int(),
  updatedAt: z.coerce.number().int(),
});
export type ApplianceRecord = z.infer<typeof applianceRecordSchema>;

export const tokenRecordSchema = z.object({ serial: serialSchema, issuedAt: z.number().int(), expiresAt: z.number().int() });
export type EnrolmentToken = z.infer<typeof tokenRecordSchema>;

export const inboxRecordSchema = z.object({
  sid: z.string().min(8),
  key: z.string().min(1),
  issuedAt: z.number().int(),
  expiresAt: z.number().int(),
  ticket: ticketRefSchema.optional(),
});
export type InboxRecord = z.infer<typeof inboxRecordSchema>;

export const TOKEN_PREFIX = 'ET1.';
/** Enrolment tokens live minutes, not days: they are typed in once at the appliance. */
export const MAX_TOKEN_TTL_MS = 24 * 3_600_000;

export type TokenRefusal = 'unknown' | 'expired' | 'wrong_serial';
export type TokenConsumption = { ok: true; token: EnrolmentToken } | { ok: false; reason: TokenRefusal };

/** A new enrolment token's text (shown once, never stored) and the record kept for it. */
export function newEnrolmentToken(serial: string, ttlMs: number, now: number): { token: string; record: EnrolmentToken } {
  return { token: `${TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`, record: { serial, issuedAt: now, expiresAt: now + ttlMs } };
}

export interface ApplianceStore {
  /** A new single-use token for `serial`; returns the token text (shown once, never stored). */
  issueToken(serial: string, ttlMs: number, now: number): Promise<{ token: string; expiresAt: number }>;
  /**
   * Takes the token atomically, and only when it was issued for `serial` (case-insensitive) and is
   * unexpired: a second use, even concurrent, finds nothing; a refused attempt leaves it usable.
   */
  consumeToken(token: string, serial: string, now: number): Promise<TokenConsumption>;
  /** Records (or replaces) an appliance's enrolment. */
  enrol(rec: Omit<ApplianceRecord, 'updatedAt'>, now: number): Promise<ApplianceRecord>;
  get(serial: string): Promise<ApplianceRecord | null>;
  /** By enrolment time. */
  list(): Promise<ApplianceRecord[]>;
  updateVersion(serial: string, version: string, now: number): Promise<void>;
  /** Raw X25519 public key of an enrolled appliance, or null: keys for it are then bearer keys. */
  sealingKeyOf(serial: string): Promise<{ sealPub: Buffer; product: Product } | null>;
  /** False when the nonce was seen within `ttlMs` (longer than the signature window). */
  claimNonce(serial: string, nonce: string, ttlMs: number): Promise<boolean>;
  /** Adds a key to the serial's inbox (kept until it expires). */
  pushKey(serial: string, entry: InboxRecord, now: number): Promise<void>;
  /** Unexpired entries, newest first. */
  inbox(serial: string, now: number): Promise<InboxRecord[]>;
  removeFromInbox(serial: string, sid: string): Promise<boolean>;
  /** The serial's open one-click ticket. */
  openTicket(serial: string): Promise<TicketRef | null>;
  rememberTicket(serial: string, ticket: TicketRef, ttlMs: number): Promise<void>;
  /** Forgets the open ticket if it is `ticket` (a newer one stays). */
  forgetTicket(serial: string, ticket: TicketRef): Promise<void>;
}
