// Redis memory as INFO reports it: what a benchmark divides by the sessions or tunnels it added.
import type { Redis } from 'ioredis';

/** used_memory (bytes allocated by Redis for data and its own structures). */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  const text = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(text)?.[1] ?? Number.NaN);
}
