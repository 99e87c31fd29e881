// What a session transition means, in one pure place: `transition(from, event)` gives the next
// state, the audit entry type (the only place these names are spelled) and the effects the system
// carries out. The store's Lua applies the compare-and-set and writes the audit type decided here;
// the audit bridge (workers) and the relay execute the effects of their kind by type.
//
//   ISSUED ──activate──▶ CONNECTED ⇄ LOST        any live state ──close(reason)──▶ CLOSED(reason)
import { AppError } from '../errors.js';
import { TRANSITIONS, type SessionEvent, type SessionState, type TransitionOutcome } from './session-machine.js';

/** Every audit entry type of a session's life. */
export const SESSION_AUDIT = {
  issued: 'session.issued',
  activated: 'session.activated',
  reconnected: 'session.reconnected',
  lost: 'session.lost',
  closed: 'session.closed',
  extended: 'session.extended',
} as const;
export type SessionAuditType = (typeof SESSION_AUDIT)[keyof typeof SESSION_AUDIT];

/** The ticket comment and requester mail a step deserves (texts live with the workers). */
export type TicketNews = 'connected' | 'reconnected' | 'lost' | 'closed';

/**
 * Effects, by who carries them out: `pipeline` (the audit bridge: expiry jobs, comments, mails, key
 * text, the appliance's inbox, password custody, one-click's open ticket), `relay` (live sockets,
 * heartbeats, the agent's expiry). `onlyIfReceived`: skip when nobody ever received the key (a key
 * superseded before delivery is an internal matter). `onlyIfReason`: only for a close of that reason.
 */
export type LifecycleEffect =
  | { by: 'pipeline'; kind: 'plan-expiry' }
  | { by: 'pipeline'; kind: 'cancel-expiry' }
  | { by: 'pipeline'; kind: 'forget-key-text' }
  | { by: 'pipeline'; kind: 'comment'; news: TicketNews; onlyIfReceived?: true }
  | { by: 'pipeline'; kind: 'notify'; template: 'connected' | 'closed'; onlyIfReceived?: true }
  | { by: 'pipeline'; kind: 'clear-inbox' }
  | { by: 'pipeline'; kind: 'destroy-password' }
  | { by: 'pipeline'; kind: 'forget-open-ticket'; onlyIfReason: 'ticket_closed' }
  | { by: 'relay'; kind: 'tear-down-tunnel' }
  | { by: 'relay'; kind: 'tell-expiry' }
  | { by: 'relay'; kind: 'start-heartbeat' }
  | { by: 'relay'; kind: 'stop-heartbeat' };

export interface Decision {
  next: SessionState;
  audit: SessionAuditType;
  outcome: TransitionOutcome;
  effects: LifecycleEffect[];
}

const AUDIT_OF_OUTCOME: Record<TransitionOutcome, SessionAuditType> = {
  activated: SESSION_AUDIT.activated,
  reconnected: SESSION_AUDIT.reconnected,
  lost: SESSION_AUDIT.lost,
  closed: SESSION_AUDIT.closed,
};

function effectsOf(event: SessionEvent, from: SessionState): LifecycleEffect[] {
  switch (event) {
    case 'activate':
      // The key is used: an enrolled appliance's inbox no longer offers it.
      return [
        { by: 'relay', kind: 'start-heartbeat' },
        { by: 'pipeline', kind: 'comment', news: 'connected' },
        { by: 'pipeline', kind: 'notify', template: 'connected' },
        { by: 'pipeline', kind: 'clear-inbox' },
      ];
    case 'connect':
      // From CONNECTED it was never reported lost (a drained relay moved it, or a reset): no news.
      return from === 'LOST' ? [{ by: 'relay', kind: 'start-heartbeat' }, { by: 'pipeline', kind: 'comment', news: 'reconnected' }] : [{ by: 'relay', kind: 'start-heartbeat' }];
    case 'lose':
      return [{ by: 'relay', kind: 'stop-heartbeat' }, { by: 'pipeline', kind: 'comment', news: 'lost' }];
    case 'close':
      return [
        { by: 'relay', kind: 'stop-heartbeat' },
        { by: 'relay', kind: 'tear-down-tunnel' },
        { by: 'pipeline', kind: 'cancel-expiry' },
        { by: 'pipeline', kind: 'forget-key-text' },
        { by: 'pipeline', kind: 'comment', news: 'closed', onlyIfReceived: true },
        { by: 'pipeline', kind: 'notify', template: 'closed', onlyIfReceived: true },
        { by: 'pipeline', kind: 'destroy-password' },
        { by: 'pipeline', kind: 'clear-inbox' },
        // A ticket closed under a session stops being the serial's open one-click ticket.
        { by: 'pipeline', kind: 'forget-open-ticket', onlyIfReason: 'ticket_closed' },
      ];
  }
}

function outcomeOf(event: SessionEvent): TransitionOutcome {
  return event === 'activate' ? 'activated' : event === 'connect' ? 'reconnected' : event === 'lose' ? 'lost' : 'closed';
}

/** The legal next step, or a coded error: session_closed from CLOSED, illegal_transition otherwise. */
export function transition(from: SessionState, event: SessionEvent): Decision {
  const rule = TRANSITIONS[event];
  if (!rule.from.includes(from)) {
    if (from === 'CLOSED') throw new AppError('session_closed', `session is closed; ${event} is not possible`);
    throw new AppError('illegal_transition', `cannot ${event} a session in state ${from}`);
  }
  const outcome = outcomeOf(event);
  return { next: rule.to, audit: AUDIT_OF_OUTCOME[outcome], outcome, effects: effectsOf(event, from) };
}

/** What the events channel and the audit say happened: a transition's outcome, or an issue or extension. */
export type SessionOutcome = TransitionOutcome | 'issued' | 'extended';

const EVENT_OF_OUTCOME: Record<TransitionOutcome, SessionEvent> = {
  activated: 'activate',
  reconnected: 'connect',
  lost: 'lose',
  closed: 'close',
};

const OUTCOME_OF_AUDIT: Record<SessionAuditType, SessionOutcome> = {
  [SESSION_AUDIT.issued]: 'issued',
  [SESSION_AUDIT.activated]: 'activated',
  [SESSION_AUDIT.reconnected]: 'reconnected',
  [SESSION_AUDIT.lost]: 'lost',
  [SESSION_AUDIT.closed]: 'closed',
  [SESSION_AUDIT.extended]: 'extended',
};

/**
 * The effects of what happened to a session, as the audit bridge (from audit entries) and the relay
 * (from the events channel) carry them out: a transition's effects from its recorded `from` state;
 * an issue plans the expiry; an extension plans it again and the relay tells the agent.
 */
export function effectsOfOutcome(outcome: SessionOutcome, from: string | undefined): LifecycleEffect[] {
  if (outcome === 'issued') return [{ by: 'pipeline', kind: 'plan-expiry' }];
  if (outcome === 'extended') return [{ by: 'pipeline', kind: 'plan-expiry' }, { by: 'relay', kind: 'tell-expiry' }];
  const event = EVENT_OF_OUTCOME[outcome];
  const start = (TRANSITIONS[event].from as readonly string[]).includes(from ?? '') ? (from as SessionState) : TRANSITIONS[event].from[0]!;
  return transition(start, event).effects;
}

/** The effects of one audit entry (see effectsOfOutcome). Unknown or malformed entries: none. */
export function effectsOfEntry(type: string, from: string | undefined): LifecycleEffect[] {
  const outcome = OUTCOME_OF_AUDIT[type as SessionAuditType];
  return outcome ? effectsOfOutcome(outcome, from) : [];
}
