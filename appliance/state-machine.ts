// An explicit state machine over a transition table: every change goes through `to()`, which
// refuses a transition not in the table (a coded error), so status is never a set of scattered
// flags. The tunnel agent (agent-state.ts) and the resident service (service/service-phase.ts) each
// have one.
import { AppError } from '../shared/errors.js';

export type Transitions<S extends string> = Readonly<Record<S, readonly S[]>>;

export class StateMachine<S extends string> {
  #current: S;

  /** `what` names the machine in the error of an illegal transition. */
  constructor(
    private readonly what: string,
    private readonly transitions: Transitions<S>,
    initial: S,
    private readonly onChange?: (to: S, from: S) => void,
  ) {
    this.#current = initial;
  }

  protected get current(): S {
    return this.#current;
  }

  is(...states: S[]): boolean {
    return states.includes(this.#current);
  }

  to(next: S): void {
    const from = this.#current;
    if (!this.transitions[from].includes(next)) throw new AppError('illegal_transition', `illegal ${this.what} transition ${from} → ${next}`);
    this.#current = next;
    this.onChange?.(next, from);
  }
}
