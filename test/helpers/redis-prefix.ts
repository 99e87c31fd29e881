// Per-test Redis isolation: a random key prefix, and removal of every key under it afterwards.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export function randomPrefix(): string {
  return `t${randomBytes(5).toString('hex')}:`;
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}
