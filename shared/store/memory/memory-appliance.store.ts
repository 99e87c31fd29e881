// Enrolled appliances in memory, for fast unit tests (not for production). The same rules as the
// Redis store (single-use tokens bound to a serial, serials case-insensitive, inbox entries
// filtered by expiry, newest first); TTLs the interface passes no clock for (nonces, the open
// ticket) are not modelled: they live as long as the store.
import { createHash } from 'node:crypto';
import type { Product } from '../../key/tether-key.schema.js';
import { ticketRefSchema, type TicketRef } from '../../session/session.schema.js';
import {
  applianceRecordSchema,
  inboxRecordSchema,
  newEnrolmentToken,
  type ApplianceRecord,
  type ApplianceStore,
  type EnrolmentToken,
  type InboxRecord,
  type TokenConsumption,
} from '../appliance.store.js';

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export class MemoryApplianceStore implements ApplianceStore {
  private readonly records = new Map<string, ApplianceRecord>();
  /** Only the token's SHA-256 is kept, as in Redis. */
  private readonly tokens = new Map<string, EnrolmentToken>();
  private readonly nonces = new Set<string>();
  private readonly inboxes = new Map<string, Map<string, InboxRecord>>();
  private readonly tickets = new Map<string, TicketRef>();

  async issueToken(serial: string, ttlMs: number, now: number): Promise<{ token: string; expiresAt: number }> {
    const { token, record } = newEnrolmentToken(serial, ttlMs, now);
    this.tokens.set(tokenHash(token), record);
    return { token, expiresAt: record.expiresAt };
  }

  async consumeToken(token: string, serial: string, now: number): Promise<TokenConsumption> {
    const record = this.tokens.get(tokenHash(token));
    if (!record) return { ok: false, reason: 'unknown' };
    if (record.expiresAt <= now) return { ok: false, reason: 'expired' };
    if (record.serial.toUpperCase() !== serial.toUpperCase()) return { ok: false, reason: 'wrong_serial' };
    this.tokens.delete(tokenHash(token));
    return { ok: true, token: { ...record } };
  }

  async enrol(rec: Omit<ApplianceRecord, 'updatedAt'>, now: number): Promise<ApplianceRecord> {
    const record = applianceRecordSchema.parse({ ...rec, updatedAt: now });
    this.records.set(rec.serial.toUpperCase(), record);
    return { ...record };
  }

  async get(serial: string): Promise<ApplianceRecord | null> {
    const r = this.records.get(serial.toUpperCase());
    return r ? { ...r } : null;
  }

  async list(): Promise<ApplianceRecord[]> {
    return [...this.records.values()].sort((a, b) => a.enrolledAt - b.enrolledAt).map((r) => ({ ...r }));
  }

  async updateVersion(serial: string, version: string, now: number): Promise<void> {
    const r = this.records.get(serial.toUpperCase());
    if (r) Object.assign(r, { version, updatedAt: now });
  }

  async sealingKeyOf(serial: string): Promise<{ sealPub: Buffer; product: Product } | null> {
    const r = await this.get(serial);
    return r ? { sealPub: Buffer.from(r.sealPub, 'base64url'), product: r.product } : null;
  }

  async claimNonce(serial: string, nonce: string, _ttlMs: number): Promise<boolean> {
    const key = `${serial.toUpperCase()}:${nonce}`;
    if (this.nonces.has(key)) return false;
    this.nonces.add(key);
    return true;
  }

  async pushKey(serial: string, entry: InboxRecord, _now: number): Promise<void> {
    const inbox = this.inboxes.get(serial.toUpperCase()) ?? new Map<string, InboxRecord>();
    inbox.set(entry.sid, inboxRecordSchema.parse(entry));
    this.inboxes.set(serial.toUpperCase(), inbox);
  }

  async inbox(serial: string, now: number): Promise<InboxRecord[]> {
    return [...(this.inboxes.get(serial.toUpperCase())?.values() ?? [])]
      .filter((e) => e.expiresAt > now)
      .sort((a, b) => b.issuedAt - a.issuedAt)
      .map((e) => ({ ...e }));
  }

  async removeFromInbox(serial: string, sid: string): Promise<boolean> {
    return this.inboxes.get(serial.toUpperCase())?.delete(sid) ?? false;
  }

  async openTicket(serial: string): Promise<TicketRef | null> {
    const t = this.tickets.get(serial.toUpperCase());
    return t ? { ...t } : null;
  }

  async rememberTicket(serial: string, ticket: TicketRef, _ttlMs: number): Promise<void> {
    this.tickets.set(serial.toUpperCase(), ticketRefSchema.parse(ticket));
  }

  async forgetTicket(serial: string, ticket: TicketRef): Promise<void> {
    const current = this.tickets.get(serial.toUpperCase());
    if (current && current.system === ticket.system && current.id === ticket.id) this.tickets.delete(serial.toUpperCase());
  }
}
