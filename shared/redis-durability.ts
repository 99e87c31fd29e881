// Writes that must survive a Redis failover. Redis replicates asynchronously: a primary that dies
// takes the writes its replicas had not received yet with it. Before an effect outside Redis that
// depends on a write (a 202 to a help desk, a key mail, an activated appliance told "welcome") the
// writer waits with WAIT until that many replicas hold everything it wrote on the connection.
import type { Redis } from 'ioredis';

/** Waits until the writes made so far on `client` reached the replicas (no-op without replicas to wait for). */
export type ReplicaWait = (client: Redis) => Promise<void>;

export interface ReplicaWaitOptions {
  /** Replicas that must hold a write (TETHER_REDIS_WAIT_REPLICAS); 0: do not wait. */
  replicas: number;
  /** Longest wait (TETHER_REDIS_WAIT_MS); after it the effect goes ahead (availability over durability). */
  timeoutMs: number;
  /** Told when fewer replicas than asked acknowledged in time. */
  onShort?: (acked: number) => void;
}

/**
 * WAIT blocks the connection it runs on, so a primary without enough replicas (the replica is being
 * rebuilt after a failover) would hold every command behind it for the full timeout: after a short
 * answer, waits are skipped for SHORT_PAUSE_FACTOR timeouts, then tried again.
 */
const SHORT_PAUSE_FACTOR = 20;

export function replicaWait(opts: ReplicaWaitOptions, now: () => number = Date.now): ReplicaWait {
  if (opts.replicas <= 0) return async () => undefined;
  let pausedUntil = 0;
  return async (client) => {
    if (now() < pausedUntil) return;
    const acked = Number(await client.call('WAIT', opts.replicas, opts.timeoutMs));
    if (acked >= opts.replicas) return;
    pausedUntil = now() + SHORT_PAUSE_FACTOR * opts.timeoutMs;
    opts.onShort?.(acked);
  };
}
