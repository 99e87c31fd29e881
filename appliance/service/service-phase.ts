// The resident service's own state machine, around the tunnel agent's: what the service is doing
// with the one tether an appliance can have. Every change goes through `to()`, which refuses a
// transition not in the table (state-machine.ts); the page's words come from here too.
import type { AgentState } from '../agent-state.js';
import { StateMachine, type Transitions } from '../state-machine.js';

export const SERVICE_PHASES = ['idle', 'enabling', 'running', 'disabling', 'stopped'] as const;
export type ServicePhase = (typeof SERVICE_PHASES)[number];

/**
 * idle → enabling: a key, a description or a pushed key is being turned into a tether.
 * idle → running: a tether recorded in state.json is resumed (service start, after a crash).
 * enabling → running | idle: it came up, or it was refused and nothing changed (or was undone).
 * running → disabling: the customer disables; running → idle: the relay ended it (revoked, expired…).
 * any → stopped: the service shuts down (a running tether is left to resume).
 */
const TRANSITIONS: Transitions<ServicePhase> = {
  idle: ['enabling', 'running', 'stopped'],
  enabling: ['running', 'idle', 'stopped'],
  running: ['disabling', 'idle', 'stopped'],
  disabling: ['idle', 'stopped'],
  stopped: [],
};

export class ServicePhaseMachine extends StateMachine<ServicePhase> {
  constructor(onChange?: (to: ServicePhase, from: ServicePhase) => void) {
    super('service', TRANSITIONS, 'idle', onChange);
  }

  get phase(): ServicePhase {
    return this.current;
  }
}

/** What the customer is told the tether is doing. */
export const TETHER_STATUSES = ['disabled', 'connecting', 'connected', 'lost', 'disabling'] as const;
export type TetherStatus = (typeof TETHER_STATUSES)[number];

/** `lost`: up once, now reconnecting. */
export function tetherStatusOf(phase: ServicePhase, agent: AgentState | undefined, everConnected: boolean): TetherStatus {
  switch (phase) {
    case 'idle':
    case 'stopped':
      return 'disabled';
    case 'enabling':
      return agent === 'connected' ? 'connected' : 'connecting';
    case 'disabling':
      return 'disabling';
    case 'running':
      if (agent === 'connected') return 'connected';
      if (agent === 'draining') return 'disabling';
      if (agent === 'closed') return 'disabled';
      return everConnected ? 'lost' : 'connecting';
  }
}
