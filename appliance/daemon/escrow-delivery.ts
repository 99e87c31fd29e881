// Delivers the escrowed support password (sealed to the vendor's custody key) to the relay: on every
// connection until the relay has acknowledged it once. A refusal or no answer is retried on the same
// connection after a pause, a few times, and again after the next reconnect. The box never changes,
// so a re-send after an acknowledgement that got lost is the same bytes, which the relay acknowledges
// again. Never holds the tunnel up: a tether whose escrow has not gone through still works.
import { describeError } from '../../shared/errors.js';
import { encodeEscrowRequest, type EscrowBox } from '../../shared/key/password-escrow.js';
import type { AgentLog } from '../agent-log.js';
import { systemClock, type Clock } from '../clock.js';
import type { GlobalReply } from '../tunnel/global-request.js';

export interface EscrowDeliveryOptions {
  box: EscrowBox;
  /** Sends the request on the live connection (TunnelAgent.request). */
  request: (data: Buffer) => Promise<GlobalReply>;
  /** Called once, when the relay acknowledged: record it, drop the box. */
  acknowledged: () => void;
  log: AgentLog;
  clock?: Clock;
  /** Pauses before each retry on one connection. */
  retryMs?: readonly number[];
}

export const ESCROW_RETRY_MS = [5_000, 30_000, 120_000] as const;

export class EscrowDelivery {
  readonly #opts: EscrowDeliveryOptions;
  readonly #data: Buffer;
  readonly #clock: Clock;
  #done = false;
  /** Counts connections, so a retry armed for one never runs on the next. */
  #connection = 0;
  #timer: unknown;

  constructor(opts: EscrowDeliveryOptions) {
    this.#opts = opts;
    this.#data = encodeEscrowRequest(opts.box);
    this.#clock = opts.clock ?? systemClock;
  }

  get acknowledged(): boolean {
    return this.#done;
  }

  /** A connection is up: sends now and resolves after this first attempt, whatever its outcome. */
  async onConnected(): Promise<void> {
    if (this.#done) return;
    this.#cancelRetry();
    await this.#attempt(++this.#connection, 0);
  }

  /** The connection dropped (or the tether stops): a pending retry waits for the next connection. */
  onDisconnected(): void {
    this.#connection += 1;
    this.#cancelRetry();
  }

  async #attempt(connection: number, retries: number): Promise<void> {
    let outcome: string;
    try {
      const reply = await this.#opts.request(this.#data);
      if (reply === 'success') {
        if (!this.#done) {
          this.#done = true;
          this.#opts.acknowledged();
          this.#opts.log('support password escrowed: the relay acknowledged it');
        }
        return;
      }
      outcome = 'refused by the relay';
    } catch (err) {
      outcome = `not answered (${describeError(err)})`;
    }
    if (this.#done || connection !== this.#connection) return;
    const delay = (this.#opts.retryMs ?? ESCROW_RETRY_MS)[retries];
    if (delay === undefined) {
      this.#opts.log(`password escrow ${outcome}; trying again after the next reconnect`);
      return;
    }
    this.#opts.log(`password escrow ${outcome}; retrying in ${delay} ms`);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt(connection, retries + 1);
    }, delay);
  }

  #cancelRetry(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
