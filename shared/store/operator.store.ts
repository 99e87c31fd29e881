// Operators (the people who use the operator API, console and CLI): name, role and the SHA-256 of a
// personal token. The token itself is shown once by `add` and never stored; a look-up goes by the
// token's hash and ends in a constant-time comparison. Adds and removals are audited in one MULTI.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { BREAK_GLASS_NAME, operatorRoleSchema, type Operator, type OperatorRole } from '../operator-role.js';
import { redisKeys, type RedisKeys } from './redis-keys.js';
import { parseStoredJson } from './stored-json.js';

export const operatorNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,31}$/, 'operator names are lower-case letters, digits, ".", "_" or "-", starting with a letter')
  .refine((n) => n !== BREAK_GLASS_NAME, `"${BREAK_GLASS_NAME}" is the break-glass operator of TETHER_ADMIN_TOKEN`);

const operatorRecordSchema = z.object({
  name: z.string(),
  role: operatorRoleSchema,
  /** Hex SHA-256 of the personal token. */
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number().int(),
});
type OperatorRecord = z.infer<typeof operatorRecordSchema>;

export interface OperatorInfo extends Operator {
  createdAt: number;
}

export const OPERATOR_TOKEN_PREFIX = 'OT1.';
/** Longer input is no token of ours; refused before hashing. */
const MAX_TOKEN_LENGTH = 200;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parseRecord(raw: string | null): OperatorRecord | null {
  return parseStoredJson(operatorRecordSchema, raw);
}

const infoOf = (r: OperatorRecord): OperatorInfo => ({ name: r.name, role: r.role, createdAt: r.createdAt });

export class OperatorStore {
  private readonly keys: RedisKeys;

  constructor(private readonly redis: Redis, prefix: string) {
    this.keys = redisKeys(prefix);
  }

  /** Registers an operator; returns the personal token (shown once). `operator_exists` if taken. */
  async add(name: string, role: OperatorRole, actor: string, now: number): Promise<{ operator: OperatorInfo; token: string }> {
    const valid = operatorNameSchema.safeParse(name);
    if (!valid.success) throw new AppError('usage', `invalid operator name "${name}": ${valid.error.issues[0]?.message}`);
    const token = `${OPERATOR_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: OperatorRecord = { name, role, tokenHash: tokenHash(token), createdAt: now };
    // HSETNX first: of two racing adds one wins, and the loser leaves no token index behind.
    if ((await this.redis.hsetnx(this.keys.operators, name, JSON.stringify(record))) === 0) {
      throw new AppError('operator_exists', `operator ${name} already exists: remove it first to issue a new token`);
    }
    await this.redis
      .multi()
      .set(this.keys.operatorToken(record.tokenHash), name)
      .xadd(this.keys.audit, '*', 'type', 'operator.added', 'operator', name, 'role', role, 'actor', actor, 'at', String(now))
      .exec();
    return { operator: infoOf(record), token };
  }

  async get(name: string): Promise<OperatorInfo | null> {
    const r = parseRecord(await this.redis.hget(this.keys.operators, name));
    return r ? infoOf(r) : null;
  }

  /** By name. */
  async list(): Promise<OperatorInfo[]> {
    const all = await this.redis.hvals(this.keys.operators);
    return all
      .map(parseRecord)
      .filter((r): r is OperatorRecord => r !== null)
      .map(infoOf)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Removes the operator and its token at once; false when there is none. */
  async remove(name: string, actor: string, now: number): Promise<boolean> {
    const r = parseRecord(await this.redis.hget(this.keys.operators, name));
    if (!r) return false;
    await this.redis
      .multi()
      .hdel(this.keys.operators, name)
      .del(this.keys.operatorToken(r.tokenHash))
      .xadd(this.keys.audit, '*', 'type', 'operator.removed', 'operator', name, 'role', r.role, 'actor', actor, 'at', String(now))
      .exec();
    return true;
  }

  /** The operator whose personal token this is, or null. */
  async authenticate(token: string): Promise<Operator | null> {
    if (!token.startsWith(OPERATOR_TOKEN_PREFIX) || token.length > MAX_TOKEN_LENGTH) return null;
    const hash = tokenHash(token);
    const name = await this.redis.get(this.keys.operatorToken(hash));
    if (!name) return null;
    const r = parseRecord(await this.redis.hget(this.keys.operators, name));
    // The index could outlive a record replaced meanwhile: the record's own hash decides.
    if (!r || !timingSafeEqual(Buffer.from(r.tokenHash, 'hex'), Buffer.from(hash, 'hex'))) return null;
    return { name: r.name, role: r.role };
  }
}
