// The session state machine as a pure transition table. The Redis store applies it atomically;
// this module decides only what is legal and what the outcome is called.
//
//   ISSUED ──activate──▶ CONNECTED ⇄ LOST   (connect: a reconnect with the appliance-held key)
//      └──────── close(reason) ──────────▶ CLOSED(reason)
//
// `activate` is the only way out of ISSUED: the key's tunnel credential authenticates exactly once,
// and the same transition binds the appliance-held key that every later `connect` must use.
import { AppError } from '../errors.js';

export const SESSION_STATES = ['ISSUED', 'CONNECTED', 'LOST', 'CLOSED'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const CLOSE_REASONS = ['customer_disabled', 'expired', 'revoked', 'ticket_closed', 'superseded'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const SESSION_EVENTS = ['activate', 'connect', 'lose', 'close'] as const;
export type SessionEvent = (typeof SESSION_EVENTS)[number];

interface Rule {
  from: readonly SessionState[];
  to: SessionState;
}

export const TRANSITIONS: Readonly<Record<SessionEvent, Rule>> = {
  activate: { from: ['ISSUED'], to: 'CONNECTED' },
  connect: { from: ['CONNECTED', 'LOST'], to: 'CONNECTED' },
  lose: { from: ['CONNECTED'], to: 'LOST' },
  close: { from: ['ISSUED', 'CONNECTED', 'LOST'], to: 'CLOSED' },
};

/** What a legal transition means, for the audit stream. */
export type TransitionOutcome =
  | 'activated' // first tunnel auth: the key is consumed
  | 'reconnected'
  | 'lost'
  | 'closed';

export function outcomeOf(event: SessionEvent, from: SessionState): TransitionOutcome {
  if (event === 'activate') return 'activated';
  if (event === 'connect') return 'reconnected';
  if (event === 'lose') return 'lost';
  return 'closed';
}

export function isLive(state: SessionState): boolean {
  return state !== 'CLOSED';
}

/** Pure check: the next state, or a coded error naming why the event is illegal. */
export function transition(from: SessionState, event: SessionEvent): { to: SessionState; outcome: TransitionOutcome } {
  const rule = TRANSITIONS[event];
  if (!rule.from.includes(from)) {
    if (from === 'CLOSED') throw new AppError('session_closed', `session is closed; ${event} is not possible`);
    throw new AppError('illegal_transition', `cannot ${event} a session in state ${from}`);
  }
  return { to: rule.to, outcome: outcomeOf(event, from) };
}
