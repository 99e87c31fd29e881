// The session state machine as a pure transition table: which events are legal from which states.
// What each transition means (audit type, effects) is the lifecycle core's (lifecycle.ts).
//
//   ISSUED ──activate──▶ CONNECTED ⇄ LOST   (connect: a reconnect with the appliance-held key)
//      └──────── close(reason) ──────────▶ CLOSED(reason)
//
// `activate` is the only way out of ISSUED: the key's tunnel credential authenticates exactly once,
// and the same transition binds the appliance-held key that every later `connect` must use.

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
