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

  /**
   * Starts a sign-in: refused (the wait in ms) while the limit holds; otherwise 0, and the attempt
   * already counts as failed, so parallel attempts whose slow password checks overlap all see
   * each other. A correct password takes its count back (`succeeded`).
   */
  begin(address: string): number {
    const wait = this.retryAfterMs(address);
    if (wait === 0) this.failed(address);
    return wait;
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

  /** The address's failures are forgotten, and this attempt's count leaves the budget over all addresses. */
  succeeded(address: string): void {
    const last = this.#failures.get(address)?.at(-1);
    this.#failures.delete(address);
    const i = last === undefined ? -1 : this.#all.lastIndexOf(last);
    if (i >= 0) this.#all.splice(i, 1);
  }

  #prune(address: string, now: number): number[] {
    return (this.#failures.get(address) ?? []).filter((t) => now - t < this.#windowMs);
  }
}
