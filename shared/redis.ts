// Redis connection factory. Entry points own the connections they open and close them on exit.
import { Redis } from 'ioredis';

export interface RedisOptions {
  /** BullMQ workers need this null; plain clients keep ioredis' default. */
  forBullmq?: boolean;
  name?: string;
}

export function openRedis(url: string, opts: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    connectionName: opts.name,
    maxRetriesPerRequest: opts.forBullmq ? null : 20,
    enableAutoPipelining: !opts.forBullmq,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  });
  return client;
}
