// Failed sign-ins to the Tether page, counted per client address in a sliding window: after
// `maxFailures` within `windowMs` that address is refused, correct password or not, until the
// oldest failure leaves the window. A second, wider budget over all addresses caps guessing from
// many addresses (the page is usually behind the appliance's own admin UI, one address for all).
import type { Clock } from '../clock.js';

export interface LimiterOptions {
  clock: Clock;
  maxFailures?: number;
  maxFailuresAll?: number;
  windowMs?: number;
}

export class SignInLimiter {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #maxAll: number;
  readonly #windowMs: number;
  readonly #failures = new Map<string, number[]>();
  #all: number[] = [];

  constructor(opts: LimiterOptions) {
    this.#clock = opts.clock;
    this.#max = opts.maxFailures ?? 5;
    this.#maxAll = opts.maxFailuresAll ?? 20;
    this.#windowMs = opts.windowMs ?? 15 * 60_000;
  }

  /** Milliseconds until `address` may try again; 0 when it may now. */
  retryAfterMs(address: string): number {
    const now = this.#clock.now();
    const mine = this.#prune(address, now);
    this.#all = this.#all.filter((t) => now - t < this.#windowMs);
    const wait = (list: number[], max: number) => (list.length >= max ? list[list.length - max]! + this.#windowMs - now : 0);
    return Math.max(wait(mine, this.#max), wait(this.#all, this.#maxAll), 0);
  }

  failed(address: string): void {
    const now = this.#clock.now();
    const mine = this.#prune(address, now);
    mine.push(now);
    this.#failures.set(address, mine);
    this.#all.push(now);
    // Bounded memory: forget the quietest addresses first.
    if (this.#failures.size > 1_000) this.#failures.delete(this.#failures.keys().next().value!);
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }

  #prune(address: string, now: number): number[] {
    return (this.#failures.get(address) ?? []).filter((t) => now - t < this.#windowMs);
  }
}
