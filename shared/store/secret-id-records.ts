// Records found by an id that is itself a secret (a console session's cookie, an SSO sign-in's
// `state`): the id is 32 random bytes, and Redis holds the record only under the id's SHA-256, so
// a Redis dump holds no usable id. Every record lives `ttlMs`. Holds text; callers parse it.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

export class SecretIdRecords {
  /** `keyOf`: the Redis key of a record, by the hex SHA-256 of its id (redis-keys.ts). */
  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (idHash: string) => string,
    private readonly ttlMs: number,
  ) {}

  /** Stores `text` under a new id; returns the id. */
  async add(text: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.redis.set(this.key(id), text, 'PX', this.ttlMs);
    return id;
  }

  /** The record, its expiry moved `ttlMs` on (sliding); null when unknown or expired. */
  async use(id: string): Promise<string | null> {
    const key = this.key(id);
    const [[, raw]] = (await this.redis.multi().get(key).pexpire(key, this.ttlMs).exec()) as [[unknown, string | null], [unknown, number]];
    return raw;
  }

  /** The record, deleted in the same step (GETDEL): it is found once. */
  take(id: string): Promise<string | null> {
    return this.redis.getdel(this.key(id));
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  private key(id: string): string {
    return this.keyOf(sha256Hex(id));
  }
}
