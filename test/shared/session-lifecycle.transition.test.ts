// The lifecycle core, state × event, table-driven: every legal step's next state, audit type and
// effects, and every refusal with its code. Pure: no Redis.
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors.js';
import { effectsOfEntry, SESSION_AUDIT, transition, type LifecycleEffect } from '../../shared/session/lifecycle.js';
import { SESSION_EVENTS, SESSION_STATES, type SessionEvent, type SessionState } from '../../shared/session/session-machine.js';

const kinds = (effects: LifecycleEffect[]) =>
  effects.map((e) => `${e.by}:${e.kind}${'news' in e ? `:${e.news}` : ''}${'template' in e ? `:${e.template}` : ''}${'onlyIfReceived' in e ? '?' : ''}${'onlyIfReason' in e ? `?${e.onlyIfReason}` : ''}`);
const CLOSE_EFFECTS = [
  'relay:stop-heartbeat',
  'relay:tear-down-tunnel',
  'pipeline:cancel-expiry',
  'pipeline:forget-key-text',
  'pipeline:comment:closed?',
  'pipeline:notify:closed?',
  'pipeline:destroy-password',
  'pipeline:clear-inbox',
  'pipeline:forget-open-ticket?ticket_closed',
];

type Expected = { next: SessionState; audit: string; effects: string[] } | 'session_closed' | 'illegal_transition';

const TABLE: Record<SessionState, Record<SessionEvent, Expected>> = {
  ISSUED: {
    activate: { next: 'CONNECTED', audit: SESSION_AUDIT.activated, effects: ['relay:start-heartbeat', 'pipeline:comment:connected', 'pipeline:notify:connected', 'pipeline:clear-inbox'] },
    connect: 'illegal_transition',
    lose: 'illegal_transition',
    close: {
      next: 'CLOSED',
      audit: SESSION_AUDIT.closed,
      effects: CLOSE_EFFECTS,
    },
  },
  CONNECTED: {
    activate: 'illegal_transition',
    connect: { next: 'CONNECTED', audit: SESSION_AUDIT.reconnected, effects: ['relay:start-heartbeat'] },
    lose: { next: 'LOST', audit: SESSION_AUDIT.lost, effects: ['relay:stop-heartbeat', 'pipeline:comment:lost'] },
    close: {
      next: 'CLOSED',
      audit: SESSION_AUDIT.closed,
      effects: CLOSE_EFFECTS,
    },
  },
  LOST: {
    activate: 'illegal_transition',
    connect: { next: 'CONNECTED', audit: SESSION_AUDIT.reconnected, effects: ['relay:start-heartbeat', 'pipeline:comment:reconnected'] },
    lose: 'illegal_transition',
    close: {
      next: 'CLOSED',
      audit: SESSION_AUDIT.closed,
      effects: CLOSE_EFFECTS,
    },
  },
  CLOSED: { activate: 'session_closed', connect: 'session_closed', lose: 'session_closed', close: 'session_closed' },
};

describe('the session lifecycle core', () => {
  for (const from of SESSION_STATES) {
    for (const event of SESSION_EVENTS) {
      const expected = TABLE[from][event];
      it(`${from} × ${event} → ${typeof expected === 'string' ? `refused (${expected})` : `${expected.next}, ${expected.audit}`}`, () => {
        if (typeof expected === 'string') {
          let caught: unknown;
          try {
            transition(from, event);
          } catch (err) {
            caught = err;
          }
          expect(isAppError(caught, expected)).toBe(true);
          return;
        }
        const d = transition(from, event);
        expect({ next: d.next, audit: d.audit, effects: kinds(d.effects) }).toEqual(expected);
      });
    }
  }

  it('replays an audit entry into the same effects its transition had, and plans expiry on issue and extension', () => {
    expect(kinds(effectsOfEntry(SESSION_AUDIT.reconnected, 'LOST'))).toEqual(kinds(transition('LOST', 'connect').effects));
    expect(kinds(effectsOfEntry(SESSION_AUDIT.reconnected, 'CONNECTED'))).toEqual(['relay:start-heartbeat']);
    expect(kinds(effectsOfEntry(SESSION_AUDIT.issued, undefined))).toEqual(['pipeline:plan-expiry']);
    expect(kinds(effectsOfEntry(SESSION_AUDIT.extended, undefined))).toEqual(['pipeline:plan-expiry', 'relay:tell-expiry']);
    expect(effectsOfEntry('engineer.channel.opened', undefined)).toEqual([]);
  });
});
