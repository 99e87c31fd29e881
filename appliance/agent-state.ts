// The tunnel agent's explicit state machine: initial → connecting → connected → draining → closed.
// Every change goes through `to()`, which refuses a transition not in the table (state-machine.ts).
import { StateMachine, type Transitions } from './state-machine.js';

export const AGENT_STATES = ['initial', 'connecting', 'connected', 'draining', 'closed'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

/**
 * connecting → connected: the relay accepted the credential and the forwards are in place.
 * connected → connecting: the connection dropped or a reset was asked for; retries stay in connecting.
 * connecting/connected → draining: disable or expiry; forwards are cancelled, then the socket ends.
 * initial/connecting → closed: a permanent refusal (host key mismatch, credential rejected).
 */
const TRANSITIONS: Transitions<AgentState> = {
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

export class AgentStateMachine extends StateMachine<AgentState> {
  constructor(onChange?: (to: AgentState, from: AgentState) => void) {
    super('agent', TRANSITIONS, 'initial', onChange);
  }

  get state(): AgentState {
    return this.current;
  }
}
