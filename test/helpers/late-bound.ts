// A stand-in for a value a test file names at module level but only beforeAll can make (a started
// harness, a service): every property read is forwarded to the real value once it is bound, and a
// read before that (or after unbind) fails loudly instead of seeing undefined.
import { afterAll, beforeAll } from 'vitest';

export interface LateBound<T extends object> {
  /** The stand-in: use it as the value itself. */
  readonly ref: T;
  bind(real: T): T;
  unbind(): void;
}

export function lateBound<T extends object>(what: string): LateBound<T> {
  let real: T | undefined;
  const target = (): T => {
    if (real === undefined) throw new Error(`${what} is used outside the beforeAll/afterAll that start it`);
    return real;
  };
  const ref = new Proxy({} as T, {
    get(_, prop) {
      const t = target();
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
    set: (_, prop, value) => Reflect.set(target(), prop, value),
    has: (_, prop) => Reflect.has(target(), prop),
  });
  return {
    ref,
    bind: (value) => (real = value),
    unbind: () => (real = undefined),
  };
}

/**
 * Starts a value in beforeAll and closes it in afterAll, for one test file; returns its stand-in.
 * Hooks run in the order they are registered and afterAll in reverse, so what is named first is
 * started first and closed last.
 */
export function startedForFile<T extends object>(what: string, start: () => Promise<T>, close: (started: T) => Promise<void>, timeoutMs?: number): T {
  const value = lateBound<T>(what);
  let started: T | undefined;
  beforeAll(async () => {
    started = value.bind(await start());
  }, timeoutMs);
  afterAll(async () => {
    if (started) await close(started);
    value.unbind();
  });
  return value.ref;
}
