// The connection BullMQ's Queue objects run on: a duplicate of the caller's client, owned by whoever
// asked for it. BullMQ defines its Lua scripts (about sixty) on the client it is given, and ioredis
// copies every defined script onto each pipeline it builds, so sharing the client made every
// auto-pipelined batch of the stores on it (sessions, key texts, ...) several times dearer.
import type { Redis } from 'ioredis';
import { coalesceRedisWrites } from '../shared/redis-write-coalescing.js';

export function bullConnectionFrom(client: Redis): Redis {
  const name = client.options.connectionName;
  const bull = client.duplicate({ enableAutoPipelining: false, lazyConnect: false, ...(name ? { connectionName: `${name}-queues` } : {}) });
  // Connection trouble surfaces on the caller's client; an unhandled 'error' would crash.
  bull.on('error', () => undefined);
  return coalesceRedisWrites(bull);
}
