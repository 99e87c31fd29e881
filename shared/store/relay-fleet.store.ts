// The relay fleet in Redis: each relay's registration (where peers reach it, the key it proves
// itself with, its load), renewed on a ticker and gone when not renewed; and the notes a draining
// relay leaves for the sessions it sends elsewhere on purpose. Holds no secrets: a fleet key's
// public half only.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { redisKeys, type RedisKeys } from './redis-keys.js';
import { parseStoredJson } from './stored-json.js';

export const RELAY_STATES = ['serving', 'draining'] as const;
export type RelayState = (typeof RELAY_STATES)[number];

/** Relay ids travel as SSH user names between relays: no spaces, no '@'. */
export const relayIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'relay id may hold letters, digits, ".", "_", ":" and "-"');

export const relayRegistrationSchema = z.object({
  id: relayIdSchema,
  /** Where other relays open their link to this one (the peer listener, not the public port). */
  peer: z.object({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535) }),
  /** `SHA256:…` of the relay's host key: peers pin it. */
  hostKeyFp: z.string().startsWith('SHA256:'),
  /** base64 raw Ed25519 public key this relay signs its peer logins with (made at start, never stored). */
  fleetKey: z.string().min(40).max(64),
  state: z.enum(RELAY_STATES),
  tunnels: z.number().int().nonnegative(),
  channels: z.number().int().nonnegative(),
  startedAt: z.number().int(),
  renewedAt: z.number().int(),
});
export type RelayRegistration = z.infer<typeof relayRegistrationSchema>;

function parse(raw: string | null): RelayRegistration | null {
  return parseStoredJson(relayRegistrationSchema, raw);
}

export class RelayFleetStore {
  readonly keys: RedisKeys;

  constructor(private readonly redis: Redis, prefix: string) {
    this.keys = redisKeys(prefix);
  }

  /** Writes (or renews) a registration that lives `ttlMs` unless renewed again. */
  async renew(reg: RelayRegistration, ttlMs: number): Promise<void> {
    const value = JSON.stringify(relayRegistrationSchema.parse(reg));
    await this.redis.multi().set(this.keys.relay(reg.id), value, 'PX', ttlMs).zadd(this.keys.relays, String(reg.renewedAt), reg.id).exec();
  }

  /** A live registration, or null (never registered, left, or not renewed in time). */
  async get(id: string): Promise<RelayRegistration | null> {
    return parse(await this.redis.get(this.keys.relay(id)));
  }

  /** Every live registration; ids whose registration expired are pruned from the member list. */
  async list(): Promise<RelayRegistration[]> {
    const ids = await this.redis.zrange(this.keys.relays, '0', '-1');
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.relay(id)));
    const live: RelayRegistration[] = [];
    const gone: string[] = [];
    raws.forEach((raw, i) => {
      const reg = parse(raw);
      if (reg) live.push(reg);
      else gone.push(ids[i]!);
    });
    if (gone.length) await this.redis.zrem(this.keys.relays, ...gone);
    return live;
  }

  async leave(id: string): Promise<void> {
    await this.redis.multi().del(this.keys.relay(id)).zrem(this.keys.relays, id).exec();
  }

  /** Notes that these sessions' tunnels leave `relayId` on purpose (drain), for `ttlMs`. */
  async markMoving(sids: readonly string[], relayId: string, ttlMs: number): Promise<void> {
    if (sids.length === 0) return;
    const m = this.redis.multi();
    for (const sid of sids) m.set(this.keys.moving(sid), relayId, 'PX', ttlMs);
    await m.exec();
  }

  /** The relay that sent this session's tunnel away on purpose, consuming the note; null if none. */
  takeMoving(sid: string): Promise<string | null> {
    return this.redis.getdel(this.keys.moving(sid));
  }
}
