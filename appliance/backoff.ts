// Reconnect delays: exponential with jitter, so thousands of appliances that lost the same relay
// do not come back in lock-step (a relay handshakes ~250/s per core). First retry is fast.
export interface BackoffOptions {
  /** Centre of the first delay; the first retry waits between base/2 and 1.5·base. */
  baseMs: number;
  /** No delay reaches this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseMs: 200, capMs: 30_000 });

/** Delay before retry number `attempt` (0 = first retry); `random` returns [0, 1). */
export function backoffDelay(attempt: number, random: () => number = Math.random, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const centre = Math.min(opts.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30), opts.capMs / 1.5);
  const r = Math.min(Math.max(random(), 0), 0.999_999);
  return Math.floor(centre * (0.5 + r));
}
