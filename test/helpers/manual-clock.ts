// A clock the test moves: timers fire only when `advance` passes them, then pending I/O callbacks
// get one turn of the event loop.
import type { Clock } from '../../appliance/clock.js';

export interface ManualClock extends Clock {
  advance(ms: number): Promise<void>;
  /** Timers set and not yet fired or cleared. */
  pending(): number;
}

export function manualClock(start = 0): ManualClock {
  let now = start;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (h) => void timers.delete(h as number),
    pending: () => timers.size,
    async advance(ms) {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at > now) continue;
        timers.delete(id);
        t.fn();
      }
      await new Promise((r) => setImmediate(r));
    },
  };
}
