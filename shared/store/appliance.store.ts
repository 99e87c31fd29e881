// Enrolled appliances in Redis: serial → product, version and identity public keys (Ed25519 for
// request signatures, X25519 for sealing); single-use enrolment tokens with a TTL; request nonces
// for replay protection; the inbox of pushed keys; the open one-click ticket of each serial.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
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

const tokenRecordSchema = z.object({ serial: serialSchema, issuedAt: z.number().int(), expiresAt: z.number().int() });
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

/** HSET the entry, then extend (never shorten) the inbox's TTL. KEYS: inbox; ARGV: sid, json, ttl ms. */
const PUSH_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;

/**
 * Takes an enrolment token only if it is for this serial and unexpired; any refusal changes nothing.
 * KEYS: token; ARGV: serial (upper case), now ms. Returns {status, record json}: status 'ok' |
 * 'unknown' | 'expired' | 'wrong_serial'. One script, so a racer with the right serial and one with
 * the wrong serial cannot both see the token, and the wrong one cannot burn it.
 */
const CONSUME_TOKEN_LUA = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {'unknown', ''} end
local ok, rec = pcall(cjson.decode, raw)
if not ok or type(rec) ~= 'table' or type(rec.serial) ~= 'string' or type(rec.expiresAt) ~= 'number' then return {'unknown', ''} end
if rec.expiresAt <= tonumber(ARGV[2]) then return {'expired', ''} end
if string.upper(rec.serial) ~= ARGV[1] then return {'wrong_serial', ''} end
redis.call('DEL', KEYS[1])
return {'ok', raw}
`;

export type TokenRefusal = 'unknown' | 'expired' | 'wrong_serial';
export type TokenConsumption = { ok: true; token: EnrolmentToken } | { ok: false; reason: TokenRefusal };

export function applianceKeys(prefix: string) {
  const p = `${prefix}appliance:`;
  return {
    record: (serial: string) => `${p}rec:${serial.toUpperCase()}`,
    /** Serials by enrolment time. */
    index: `${p}index`,
    /** Only the token's SHA-256 is stored: a Redis dump does not hand out enrolments. */
    token: (token: string) => `${p}token:${createHash('sha256').update(token).digest('hex')}`,
    nonce: (serial: string, nonce: string) => `${p}nonce:${serial.toUpperCase()}:${nonce}`,
    inbox: (serial: string) => `${p}inbox:${serial.toUpperCase()}`,
    openTicket: (serial: string) => `${p}ticket:${serial.toUpperCase()}`,
  } as const;
}

function parseJson<T>(schema: z.ZodType<T>, raw: string | null): T | null {
  if (!raw) return null;
  try {
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export class ApplianceStore {
  private readonly keys: ReturnType<typeof applianceKeys>;

  constructor(private readonly redis: Redis, prefix: string) {
    this.keys = applianceKeys(prefix);
  }

  /** A new single-use token for `serial`; returns the token text (shown once, never stored). */
  async issueToken(serial: string, ttlMs: number, now: number): Promise<{ token: string; expiresAt: number }> {
    const token = `${TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
    const record: EnrolmentToken = { serial, issuedAt: now, expiresAt: now + ttlMs };
    await this.redis.set(this.keys.token(token), JSON.stringify(record), 'PX', ttlMs);
    return { token, expiresAt: record.expiresAt };
  }

  /**
   * Takes the token atomically, and only when it was issued for `serial` (case-insensitive) and is
   * unexpired: a second use, even concurrent, finds nothing; a refused attempt leaves it usable.
   */
  async consumeToken(token: string, serial: string, now: number): Promise<TokenConsumption> {
    const [status, raw] = (await this.redis.eval(CONSUME_TOKEN_LUA, 1, this.keys.token(token), serial.toUpperCase(), String(now))) as [string, string];
    if (status === 'expired' || status === 'wrong_serial') return { ok: false, reason: status };
    const record = status === 'ok' ? parseJson(tokenRecordSchema, raw) : null;
    return record ? { ok: true, token: record } : { ok: false, reason: 'unknown' };
  }

  async enrol(rec: Omit<ApplianceRecord, 'updatedAt'>, now: number): Promise<ApplianceRecord> {
    const record = applianceRecordSchema.parse({ ...rec, updatedAt: now });
    await this.redis
      .multi()
      .del(this.keys.record(rec.serial))
      .hset(this.keys.record(rec.serial), Object.fromEntries(Object.entries(record).map(([k, v]) => [k, String(v)])))
      .zadd(this.keys.index, String(rec.enrolledAt), rec.serial.toUpperCase())
      .exec();
    return record;
  }

  async get(serial: string): Promise<ApplianceRecord | null> {
    const raw = await this.redis.hgetall(this.keys.record(serial));
    if (!raw.serial) return null;
    const parsed = applianceRecordSchema.safeParse(raw);
    return parsed.success ? parsed.data : null;
  }

  async list(): Promise<ApplianceRecord[]> {
    const serials = await this.redis.zrange(this.keys.index, '0', '-1');
    const out: ApplianceRecord[] = [];
    for (const s of serials) {
      const r = await this.get(s);
      if (r) out.push(r);
    }
    return out;
  }

  async updateVersion(serial: string, version: string, now: number): Promise<void> {
    await this.redis.hset(this.keys.record(serial), 'version', version, 'updatedAt', String(now));
  }

  /** Raw X25519 public key of an enrolled appliance, or null: keys for it are then bearer keys. */
  async sealingKeyOf(serial: string): Promise<{ sealPub: Buffer; product: Product } | null> {
    const r = await this.get(serial);
    return r ? { sealPub: Buffer.from(r.sealPub, 'base64url'), product: r.product } : null;
  }

  /** SET NX with a TTL longer than the signature window: false when the nonce was seen. */
  async claimNonce(serial: string, nonce: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.nonce(serial, nonce), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  // ── inbox ──

  async pushKey(serial: string, entry: InboxRecord, now: number): Promise<void> {
    // The hash lives as long as its longest-lived key; expired entries are filtered on read.
    await this.redis.eval(
      PUSH_LUA,
      1,
      this.keys.inbox(serial),
      entry.sid,
      JSON.stringify(inboxRecordSchema.parse(entry)),
      Math.max(1_000, entry.expiresAt - now),
    );
  }

  /** Unexpired entries, newest first. */
  async inbox(serial: string, now: number): Promise<InboxRecord[]> {
    const all = await this.redis.hvals(this.keys.inbox(serial));
    return all
      .map((raw) => parseJson(inboxRecordSchema, raw))
      .filter((e): e is InboxRecord => e !== null && e.expiresAt > now)
      .sort((a, b) => b.issuedAt - a.issuedAt);
  }

  async removeFromInbox(serial: string, sid: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.inbox(serial), sid)) === 1;
  }

  // ── the serial's open one-click ticket ──

  async openTicket(serial: string): Promise<TicketRef | null> {
    return parseJson(ticketRefSchema, await this.redis.get(this.keys.openTicket(serial)));
  }

  async rememberTicket(serial: string, ticket: TicketRef, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.openTicket(serial), JSON.stringify(ticket), 'PX', ttlMs);
  }

  /** Forgets the open ticket if it is `ticket` (a newer one stays). */
  async forgetTicket(serial: string, ticket: TicketRef): Promise<void> {
    const current = await this.openTicket(serial);
    if (current && current.system === ticket.system && current.id === ticket.id) await this.redis.del(this.keys.openTicket(serial));
  }
}
