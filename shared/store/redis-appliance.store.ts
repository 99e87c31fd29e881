// Enrolled appliances in Redis: a hash per appliance and an index by enrolment time, tokens and
// nonces as keys with a TTL, the inbox as a hash (sid → entry) living as long as its longest entry.
import type { Redis } from 'ioredis';
import type { Product } from '../key/tether-key.schema.js';
import { ticketRefSchema, type TicketRef } from '../session/session.schema.js';
import {
  applianceRecordSchema,
  inboxRecordSchema,
  newEnrolmentToken,
  tokenRecordSchema,
  type ApplianceRecord,
  type ApplianceStore,
  type InboxRecord,
  type TokenConsumption,
} from './appliance.store.js';
import { applianceKeys, type ApplianceKeys } from './redis-keys.js';
import { parseStoredJson } from './stored-json.js';

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

export class RedisApplianceStore implements ApplianceStore {
  private readonly keys: ApplianceKeys;

  constructor(private readonly redis: Redis, prefix: string) {
    this.keys = applianceKeys(prefix);
  }

  async issueToken(serial: string, ttlMs: number, now: number): Promise<{ token: string; expiresAt: number }> {
    const { token, record } = newEnrolmentToken(serial, ttlMs, now);
    await this.redis.set(this.keys.token(token), JSON.stringify(record), 'PX', ttlMs);
    return { token, expiresAt: record.expiresAt };
  }

  async consumeToken(token: string, serial: string, now: number): Promise<TokenConsumption> {
    const [status, raw] = (await this.redis.eval(CONSUME_TOKEN_LUA, 1, this.keys.token(token), serial.toUpperCase(), String(now))) as [string, string];
    if (status === 'expired' || status === 'wrong_serial') return { ok: false, reason: status };
    const record = status === 'ok' ? parseStoredJson(tokenRecordSchema, raw) : null;
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

  async sealingKeyOf(serial: string): Promise<{ sealPub: Buffer; product: Product } | null> {
    const r = await this.get(serial);
    return r ? { sealPub: Buffer.from(r.sealPub, 'base64url'), product: r.product } : null;
  }

  /** SET NX with a TTL. */
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

  async inbox(serial: string, now: number): Promise<InboxRecord[]> {
    const all = await this.redis.hvals(this.keys.inbox(serial));
    return all
      .map((raw) => parseStoredJson(inboxRecordSchema, raw))
      .filter((e): e is InboxRecord => e !== null && e.expiresAt > now)
      .sort((a, b) => b.issuedAt - a.issuedAt);
  }

  async removeFromInbox(serial: string, sid: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.inbox(serial), sid)) === 1;
  }

  // ── the serial's open one-click ticket ──

  async openTicket(serial: string): Promise<TicketRef | null> {
    return parseStoredJson(ticketRefSchema, await this.redis.get(this.keys.openTicket(serial)));
  }

  async rememberTicket(serial: string, ticket: TicketRef, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.openTicket(serial), JSON.stringify(ticket), 'PX', ttlMs);
  }

  async forgetTicket(serial: string, ticket: TicketRef): Promise<void> {
    const current = await this.openTicket(serial);
    if (current && current.system === ticket.system && current.id === ticket.id) await this.redis.del(this.keys.openTicket(serial));
  }
}
