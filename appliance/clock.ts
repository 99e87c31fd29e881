// Time as a dependency: the agent reads the clock and arms timers only through this, so tests can
// drive it. `setLongTimeout` splits delays past setTimeout's 24.8-day limit (keys live 12 weeks).
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Fires `fn` at absolute time `at`; returns a cancel function. */
export function setLongTimeout(clock: Clock, at: number, fn: () => void): () => void {
  let handle: unknown;
  let cancelled = false;
  const arm = (): void => {
    if (cancelled) return;
    const left = at - clock.now();
    handle = left <= MAX_TIMER_MS ? clock.setTimeout(fn, Math.max(left, 0)) : clock.setTimeout(arm, MAX_TIMER_MS);
  };
  arm();
  return () => {
    cancelled = true;
    clock.clearTimeout(handle);
  };
}
