// The next generated support password, made and prepared for the account provider while the
// service is idle. A click's account step is then a file write instead of a key derivation (~45 ms
// of CPU with the file provider's scrypt; fifty services clicked at once on two cores spent a median
// 2.1 s in it). Each password is handed out once; the next is made after the click that took it.
// It lives in this process's memory only, like every password the agent generates.
import { describeError } from '../../shared/errors.js';
import { generatePassword } from '../../shared/key/password-escrow.js';
import type { AccountProvider } from '../accounts/account-provider.js';

export interface ReadyPassword {
  password: string;
  /** What the provider's `prepare` made of it: pass to `create` with this very password. */
  prepared: string;
}

type Ahead = { provider: AccountProvider; ready: ReadyPassword | undefined; making: boolean };

/**
 * After a click, the next password waits this long: the appliance's CPU goes to the session the
 * engineer is starting, and a customer does not click again within seconds (if they do, that click
 * hashes its own password, as without the service).
 */
export const REFILL_AFTER_CLICK_MS = 10_000;

export class PasswordAhead {
  readonly #accounts: () => AccountProvider;
  readonly #log: (line: string) => void;
  readonly #generate: () => string;
  #ahead: Ahead | undefined;

  constructor(accounts: () => AccountProvider, log: (line: string) => void, generate: () => string = generatePassword) {
    this.#accounts = accounts;
    this.#log = log;
    this.#generate = generate;
  }

  /** `refill()` in `ms` (a timer that does not hold the process). */
  refillLater(ms: number = REFILL_AFTER_CLICK_MS): void {
    setTimeout(() => this.refill(), ms).unref();
  }

  /** Starts making the next one unless one is ready or being made (a provider without `prepare`: nothing to do). */
  refill(): void {
    let provider: AccountProvider;
    try {
      provider = this.#accounts();
    } catch {
      return; // not configured yet: the click will say so
    }
    if (!provider.prepare || (this.#ahead?.provider === provider && (this.#ahead.ready || this.#ahead.making))) return;
    const ahead: Ahead = { provider, ready: undefined, making: true };
    this.#ahead = ahead;
    const password = this.#generate();
    provider.prepare(password).then(
      (prepared) => {
        ahead.making = false;
        if (this.#ahead === ahead) ahead.ready = { password, prepared };
      },
      (err: unknown) => {
        ahead.making = false;
        this.#log(`cannot prepare the next support password ahead: ${describeError(err)}`);
      },
    );
  }

  /**
   * The ready password for `provider`, handed out once; undefined when none is ready yet (a click
   * never waits for one: it generates and hashes its own as before).
   */
  take(provider: AccountProvider): ReadyPassword | undefined {
    const ahead = this.#ahead;
    if (!ahead?.ready) return undefined;
    this.#ahead = undefined;
    return ahead.provider === provider ? ahead.ready : undefined;
  }
}
