// What the service's tunnel runner reports (connected, retrying, stopped), handed to whoever waits
// for it: an enable waiting for its first outcome, a reset waiting for the reconnect. Timers go
// through the injected clock.
import { describeError } from '../../shared/errors.js';
import type { AgentLog } from '../agent-log.js';
import type { Clock } from '../clock.js';
import type { RunnerEvent } from './service-types.js';

export class RunnerEventHub {
  readonly #listeners = new Set<(e: RunnerEvent) => void>();
  readonly #clock: Clock;
  readonly #log: AgentLog;

  constructor(clock: Clock, log: AgentLog) {
    this.#clock = clock;
    this.#log = log;
  }

  /** The next event that `match`es, or undefined after `timeoutMs`. */
  next(match: (e: RunnerEvent) => boolean, timeoutMs: number): Promise<RunnerEvent | undefined> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#listeners.delete(listener);
        resolve(undefined);
      }, timeoutMs);
      const listener = (e: RunnerEvent): void => {
        if (!match(e)) return;
        this.#clock.clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(e);
      };
      this.#listeners.add(listener);
    });
  }

  emit(e: RunnerEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (err) {
        this.#log(`service: ${describeError(err)}`);
      }
    }
  }
}
