// The tunnel agent's explicit state machine: initial → connecting → connected → draining → closed.
// Every change goes through `to()`, which refuses a transition not in the table (a coded error),
// so status is never a set of scattered flags.
import { AppError } from '../shared/errors.js';

export const AGENT_STATES = ['initial', 'connecting', 'connected', 'draining', 'closed'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

/**
 * connecting → connected: the relay accepted the credential and the forwards are in place.
 * connected → connecting: the connection dropped or a reset was asked for; retries stay in connecting.
 * connecting/connected → draining: disable or expiry; forwards are cancelled, then the socket ends.
 * initial/connecting → closed: a permanent refusal (host key mismatch, credential rejected).
 */
const TRANSITIONS: Readonly<Record<AgentState, readonly AgentState[]>> = {
  initial: ['connecting', 'closed'],
  connecting: ['connected', 'draining', 'closed'],
  connected: ['connecting', 'draining'],
  draining: ['closed'],
  closed: [],
};

export function canTransition(from: AgentState, to: AgentState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States in which a tether is still alive (the session may carry traffic or come back). */
export function isLiveState(state: AgentState): boolean {
  return state !== 'closed';
}

export class AgentStateMachine {
  #state: AgentState = 'initial';
  readonly #onChange: ((to: AgentState, from: AgentState) => void) | undefined;

  constructor(onChange?: (to: AgentState, from: AgentState) => void) {
    this.#onChange = onChange;
  }

  get state(): AgentState {
    return this.#state;
  }

  is(...states: AgentState[]): boolean {
    return states.includes(this.#state);
  }

  to(next: AgentState): void {
    const from = this.#state;
    if (!canTransition(from, next)) throw new AppError('illegal_transition', `illegal agent transition ${from} → ${next}`);
    this.#state = next;
    this.#onChange?.(next, from);
  }
}
