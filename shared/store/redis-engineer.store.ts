// The engineer directory in Redis: one hash of engineer name → JSON record. Every change is one
// Lua step that reads the record, changes it, writes it and appends the audit entry (a removal also
// announces itself to every relay, which ends the removed engineer's open connections), so an add
// and a removal by two operators at once never undo each other.
import type { Redis } from 'ioredis';
import {
  additionAudit,
  assertEngineerName,
  engineerSchema,
  withdrawalAudit,
  type Engineer,
  type EngineerDirectory,
  type EngineerKey,
  type EngineerRevocation,
} from './engineer.store.js';
import { redisKeys } from './redis-keys.js';

/**
 * Add a key: the record's keys without one of the same blob, plus the new key (engineerWithKey's
 * rule); a missing or unreadable record starts a new engineer. KEYS: engineers hash, audit stream.
 * ARGV: name, key JSON, now ms, then the audit entry's field/value pairs. Returns the stored JSON.
 */
const ADD_KEY_LUA = `
local key = cjson.decode(ARGV[2])
local rec
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local ok, old = pcall(cjson.decode, raw)
  if ok and type(old) == 'table' and type(old.keys) == 'table' then rec = old end
end
if not rec then rec = { name = ARGV[1], keys = {}, addedAt = tonumber(ARGV[3]) } end
local keys = {}
for _, k in ipairs(rec.keys) do if k.blob ~= key.blob then keys[#keys + 1] = k end end
keys[#keys + 1] = key
rec.keys = keys
local out = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[1], out)
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
return out`;

/**
 * Withdraw an engineer (ARGV[2] empty) or one key (ARGV[2] its fingerprint; the last key removes
 * the engineer), audit and announce it. KEYS: engineers hash, audit stream. ARGV: name,
 * fingerprint, channel, announcement JSON, then the audit entry's field/value pairs. Returns 1,
 * or 0 when there is no such engineer or key (nothing written).
 */
const WITHDRAW_LUA = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  local ok, rec = pcall(cjson.decode, raw)
  if not ok or type(rec) ~= 'table' or type(rec.keys) ~= 'table' then return 0 end
  local keys = {}
  for _, k in ipairs(rec.keys) do if k.fingerprint ~= ARGV[2] then keys[#keys + 1] = k end end
  if #keys == #rec.keys then return 0 end
  if #keys == 0 then
    redis.call('HDEL', KEYS[1], ARGV[1])
  else
    rec.keys = keys
    redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
  end
end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 5))
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`;

export class RedisEngineerDirectory implements EngineerDirectory {
  private readonly key: string;
  private readonly audit: string;
  /** Pub/sub channel of withdrawals (JSON EngineerRevocation): relays subscribe to it. */
  readonly channel: string;

  constructor(private readonly redis: Redis, prefix: string) {
    const keys = redisKeys(prefix);
    this.key = keys.engineers;
    this.audit = keys.audit;
    this.channel = keys.engineerEvents;
  }

  async addKey(name: string, key: EngineerKey, actor: string, now: number): Promise<Engineer> {
    assertEngineerName(name);
    const { type, fields } = additionAudit(name, key, actor);
    const stored = (await this.redis.eval(ADD_KEY_LUA, 2, this.key, this.audit, name, JSON.stringify(key), String(now), ...auditArgs(type, fields, now))) as string;
    return engineerSchema.parse(JSON.parse(stored));
  }

  async get(name: string): Promise<Engineer | null> {
    const raw = await this.redis.hget(this.key, name);
    if (!raw) return null;
    const parsed = engineerSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  }

  async remove(name: string, actor: string, now: number): Promise<boolean> {
    return this.withdraw({ engineer: name }, actor, now);
  }

  async removeKey(name: string, fingerprint: string, actor: string, now: number): Promise<boolean> {
    return this.withdraw({ engineer: name, fingerprints: [fingerprint] }, actor, now);
  }

  private async withdraw(rev: EngineerRevocation, actor: string, now: number): Promise<boolean> {
    const { type, fields } = withdrawalAudit(rev, actor);
    const fingerprint = rev.fingerprints?.[0] ?? '';
    const done = await this.redis.eval(WITHDRAW_LUA, 2, this.key, this.audit, rev.engineer, fingerprint, this.channel, JSON.stringify(rev), ...auditArgs(type, fields, now));
    return done === 1;
  }

  async list(): Promise<Engineer[]> {
    const all = await this.redis.hvals(this.key);
    return all
      .map((raw) => engineerSchema.safeParse(JSON.parse(raw)))
      .flatMap((r) => (r.success ? [r.data] : []))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** An audit entry as XADD's field/value list: type first, the fields, `at` last (as RedisAuditLog.append writes it). */
function auditArgs(type: string, fields: Record<string, string>, now: number): string[] {
  return ['type', type, ...Object.entries(fields).flat(), 'at', String(now)];
}
