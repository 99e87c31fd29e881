// Watches the session events channel (every transition is published there) from a benchmark's own
// subscriber connection, and reads where sessions are (state, relayId) in pipelined batches: how a
// benchmark sees a fleet's moves as Redis records them, not as its simulated appliances believe.
import type { Redis } from 'ioredis';
import { openRedis } from '../../shared/redis.js';
import { redisKeys } from '../../shared/store/redis-keys.js';
import { parseSessionEvent, type SessionEventMessage } from '../../shared/store/session-events.js';

export interface WatchedEvent extends SessionEventMessage {
  /** Epoch ms the benchmark received it. */
  receivedAt: number;
}

export interface EventWatch {
  readonly events: readonly WatchedEvent[];
  close(): Promise<void>;
}

export async function watchSessionEvents(url: string, prefix: string): Promise<EventWatch> {
  const sub = openRedis(url, { name: 'bench-events' });
  const events: WatchedEvent[] = [];
  sub.on('message', (_channel: string, raw: string) => {
    const e = parseSessionEvent(raw);
    if (e) events.push({ ...e, receivedAt: Date.now() });
  });
  await sub.subscribe(redisKeys(prefix).events);
  return {
    events,
    async close() {
      await sub.unsubscribe().catch(() => undefined);
      sub.disconnect();
    },
  };
}

export interface Whereabouts {
  state: string | null;
  relayId: string | null;
}

/** State and relayId of each session, pipelined in batches of 1,000. */
export async function whereAre(redis: Redis, prefix: string, sids: readonly string[]): Promise<Map<string, Whereabouts>> {
  const keys = redisKeys(prefix);
  const out = new Map<string, Whereabouts>();
  for (let i = 0; i < sids.length; i += 1_000) {
    const batch = sids.slice(i, i + 1_000);
    const p = redis.pipeline();
    for (const sid of batch) p.hmget(keys.session(sid), 'state', 'relayId');
    const replies = (await p.exec()) ?? [];
    batch.forEach((sid, j) => {
      const [err, value] = replies[j] ?? [null, null];
      const [state, relayId] = err ? [null, null] : ((value as (string | null)[] | null) ?? [null, null]);
      out.set(sid, { state: state ?? null, relayId: relayId ?? null });
    });
  }
  return out;
}
