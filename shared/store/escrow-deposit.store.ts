// The relay's write-only side of password custody: stores a box an appliance escrowed over its
// tunnel, as received (the relay holds no key that opens it), in one Lua step that also checks the
// session: live, minted for escrow, and holding no other password. Re-sending the same box is
// acknowledged again and changes nothing; a different box never replaces the first.
import type { Redis } from 'ioredis';
import type { EscrowBox } from '../key/password-escrow.js';
import { escrowedValueText } from './credential.store.js';
import { custodyRedisKey, redisKeys } from './redis-keys.js';

/** `stored`, `same` (acknowledged again) or why it was refused. */
export type DepositOutcome = 'stored' | 'same' | 'conflict' | 'closed' | 'unexpected';

/**
 * KEYS: 1 custody key, 2 session hash. ARGV: 1 value, 2 now ms.
 * The TTL follows the session's expiry, as for a password stored at issue.
 */
const DEPOSIT_LUA = `
local state = redis.call('HGET', KEYS[2], 'state')
if not state or state == 'CLOSED' then return 'closed' end
if redis.call('HGET', KEYS[2], 'pwEscrow') ~= '1' then return 'unexpected' end
local current = redis.call('GET', KEYS[1])
if current then
  if current == ARGV[1] then return 'same' end
  return 'conflict'
end
local ttl = (tonumber(redis.call('HGET', KEYS[2], 'expiresAt')) or 0) - tonumber(ARGV[2])
if ttl < 1000 then ttl = 1000 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 'stored'
`;

type ScriptedRedis = Redis & { tetherEscrowDeposit(custodyKey: string, sessionKey: string, value: string, now: number): Promise<DepositOutcome> };

export class EscrowDepositStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    if (!('tetherEscrowDeposit' in redis)) redis.defineCommand('tetherEscrowDeposit', { numberOfKeys: 2, lua: DEPOSIT_LUA });
    this.redis = redis as ScriptedRedis;
  }

  /** `serial` is the one the relay authenticated, never one the appliance states. */
  deposit(sid: string, serial: string, box: EscrowBox, now: number): Promise<DepositOutcome> {
    const value = escrowedValueText({ serial, box });
    return this.redis.tetherEscrowDeposit(custodyRedisKey(this.prefix, sid), redisKeys(this.prefix).session(sid), value, now);
  }
}
