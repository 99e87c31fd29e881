// A draining relay sends its appliances on at a pace (DRAIN_MOVES_PER_S), not all at once: the relays
// taking them over would otherwise interleave thousands of key exchanges that all finish late, past
// the agents' handshake timeout. Each moving session's heartbeat headroom covers the whole pace.
// The drain's own rules with in-memory sessions and a real registry of stand-in connections.
import { describe, expect, it } from 'vitest';
import { ApplianceRegistry, newTunnel } from '../../relay/appliance-registry.js';
import { drainRelay } from '../../relay/relay-drain.js';
import { createLogger } from '../../shared/logger.js';
import type { SessionStore } from '../../shared/store/session.store.js';

function registryOf(n: number, endedAt: number[]) {
  const registry = new ApplianceRegistry();
  for (let i = 0; i < n; i++) {
    const conn = { end: () => void endedAt.push(Date.now()) } as never;
    const t = newTunnel({ sid: `sid-${i}`, serial: `SN-${i}`, conn, ports: [22], expiresAt: Date.now() + 3_600_000 });
    t.connected = true;
    registry.add(t);
  }
  return registry;
}

function deps(registry: ApplianceRegistry, touched: { until: number }[], over: { movesPerSecond: number; pollMs: number }) {
  const sessions = { touch: async (_ids: readonly string[], until: number) => void touched.push({ until }) } as unknown as SessionStore;
  return {
    registry,
    sessions,
    relayId: 'relay-a',
    stopListening: () => undefined,
    crossingChannels: () => 0,
    endCrossings: () => undefined,
    now: () => Date.now(),
    logger: createLogger('drain-test', 'silent'),
    ...over,
  };
}

describe('drain pace', () => {
  it('sends 35 idle appliances on 10 per tick at 1,000/s with 10 ms ticks, and pushes the heartbeats past the last one', async () => {
    const endedAt: number[] = [];
    const touched: { until: number }[] = [];
    const registry = registryOf(35, endedAt);
    const started = Date.now();
    const report = await drainRelay(deps(registry, touched, { movesPerSecond: 1_000, pollMs: 10 }), 5_000);
    expect(report).toMatchObject({ moved: 35, cut: 0 });
    expect(registry.size).toBe(0);
    expect(endedAt).toHaveLength(35);
    // Four ticks: 10, 10, 10, 5; the first ten leave at once, the last after at least three waits.
    const first = endedAt[0]!;
    expect(endedAt.filter((t) => t === first).length).toBeLessThanOrEqual(10);
    expect(endedAt[34]! - first).toBeGreaterThanOrEqual(25);
    // 60 s of headroom after the last planned move (35 tunnels at 10 per 10 ms tick: 35 ms).
    expect(touched).toHaveLength(1);
    expect(touched[0]!.until - started).toBeGreaterThanOrEqual(60_000 + 35);
  });

  it('what is still waiting at the drain limit is sent on at once', async () => {
    const endedAt: number[] = [];
    const registry = registryOf(50, endedAt);
    const report = await drainRelay(deps(registry, [], { movesPerSecond: 100, pollMs: 10 }), 30);
    expect(report.moved).toBe(50);
    expect(registry.size).toBe(0);
  });
});
