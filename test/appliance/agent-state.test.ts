// The agent's state machine accepts only the transitions in its table.
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors.js';
import { AGENT_STATES, AgentStateMachine, canTransition, type AgentState } from '../../appliance/agent-state.js';

function machineAt(path: AgentState[]): AgentStateMachine {
  const m = new AgentStateMachine();
  for (const s of path) m.to(s);
  return m;
}

describe('agent state machine', () => {
  it('walks initial → connecting → connected → draining → closed and reports each change', () => {
    const seen: string[] = [];
    const m = new AgentStateMachine((to, from) => seen.push(`${from}→${to}`));
    for (const s of ['connecting', 'connected', 'connecting', 'connected', 'draining', 'closed'] as const) m.to(s);
    expect(seen).toEqual(['initial→connecting', 'connecting→connected', 'connected→connecting', 'connecting→connected', 'connected→draining', 'draining→closed']);
    expect(m.state).toBe('closed');
  });

  it('rejects illegal transitions with illegal_transition and keeps its state', () => {
    const illegal: [AgentState[], AgentState][] = [
      [[], 'connected'],
      [[], 'draining'],
      [['connecting'], 'initial'],
      [['connecting'], 'connecting'],
      [['connecting', 'connected'], 'closed'],
      [['connecting', 'connected'], 'connected'],
      [['connecting', 'draining'], 'connected'],
      [['connecting', 'draining'], 'connecting'],
      [['connecting', 'closed'], 'connecting'],
      [['connecting', 'closed'], 'closed'],
    ];
    for (const [path, next] of illegal) {
      const m = machineAt(path);
      const before = m.state;
      let error: unknown;
      try {
        m.to(next);
      } catch (err) {
        error = err;
      }
      expect(isAppError(error, 'illegal_transition'), `${before} → ${next}`).toBe(true);
      expect(m.state).toBe(before);
    }
  });

  it('treats closed as terminal', () => {
    for (const s of AGENT_STATES) expect(canTransition('closed', s)).toBe(false);
  });
});
