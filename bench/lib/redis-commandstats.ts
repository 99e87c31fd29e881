// Redis-side cost of a stretch of work, from INFO: calls per command (commandstats, which counts the
// commands run inside Lua scripts as well as the EVALSHA itself), their exec time, and the main
// thread's CPU. Snapshots are taken on a connection of the benchmark; INFO itself is not counted.
import type { Redis } from 'ioredis';

export interface RedisSnapshot {
  calls: Map<string, number>;
  /** Exec time of every command, µs. */
  usec: number;
  /** used_cpu_{user,sys}_main_thread, s. */
  cpu: number;
}

export async function redisSnapshot(redis: Redis): Promise<RedisSnapshot> {
  const text = await redis.info('all');
  const calls = new Map<string, number>();
  let usec = 0;
  for (const m of text.matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === 'info') continue;
    calls.set(m[1] as string, Number(m[2]));
    usec += Number(m[3]);
  }
  const num = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { calls, usec, cpu: num('used_cpu_user_main_thread') + num('used_cpu_sys_main_thread') };
}

/** Calls per command between two snapshots (commands with no calls left out). */
export function commandDelta(before: RedisSnapshot, after: RedisSnapshot): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [k, v] of after.calls) {
    const d = v - (before.calls.get(k) ?? 0);
    if (d > 0) delta[k] = d;
  }
  return delta;
}

export function totalCalls(delta: Record<string, number>): number {
  return Object.values(delta).reduce((a, b) => a + b, 0);
}
