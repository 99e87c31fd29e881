// The tunnel agent against a throw-away ssh2 relay: forwards and pipes to the local service,
// reconnects fast after a drop, resets on demand, cancels its forwards on drain, and stops for good
// when the relay rejects the credential; a relay that drops every connection at once gets ever
// slower retries (driven clock), the backoff starting over only after a connection that lasted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import type { AgentState } from '../../appliance/agent-state.js';
import { DRAIN_CANCEL_BUDGET_MS, DRAIN_END_WAIT_MS, STABLE_CONNECTION_MS, TunnelAgent, type TunnelAgentOptions, type TunnelStopped } from '../../appliance/tunnel/tunnel-agent.js';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { manualClock } from '../helpers/manual-clock.js';
import { eventually, roundTrip, startFakeRelay, type FakeRelay } from './fake-relay.js';

const SERIAL = 'K1000-AGENT1';
let relay: FakeRelay;
let echo: TcpService;
let agent: TunnelAgent | undefined;
const seed = generateSeed();

beforeEach(async () => {
  relay = await startFakeRelay({ serial: SERIAL, tunnelSeed: seed });
  echo = await startEchoService();
});

afterEach(async () => {
  await agent?.close();
  agent = undefined;
  await relay.close();
  echo.close();
});

function startAgent(over: Partial<TunnelAgentOptions> = {}) {
  const log = {
    states: [] as AgentState[],
    connected: [] as number[][],
    retries: [] as { error: string; delayMs: number }[],
    stopped: undefined as TunnelStopped | undefined,
  };
  agent = new TunnelAgent({
    relay: { host: '127.0.0.1', port: relay.port, fp: relay.fingerprint },
    username: SERIAL,
    privateKey: openSshPrivateKeyFromSeed(generateSeed()),
    activationKey: openSshPrivateKeyFromSeed(seed),
    forwards: [
      { port: 22, target: { host: '127.0.0.1', port: echo.port } },
      { port: 443, target: { host: '127.0.0.1', port: echo.port } },
    ],
    expiresAt: Date.now() + 60_000,
    ...over,
    events: {
      state: (s) => log.states.push(s),
      connected: (c) => log.connected.push(c.forwarded),
      retrying: (r) => log.retries.push(r),
      stopped: (s) => (log.stopped = s),
    },
  });
  agent.start();
  return log;
}

describe('tunnel agent', () => {
  it('asks for a forward per port and pipes relay channels to the local service byte for byte', async () => {
    const log = startAgent();
    await eventually(() => log.states.at(-1) === 'connected', 5_000, 'connected');
    expect(relay.forwards).toEqual([
      { bindAddr: 'localhost', bindPort: 22 },
      { bindAddr: 'localhost', bindPort: 443 },
    ]);
    expect(log.connected).toEqual([[22, 443]]);
    expect(relay.ciphers).toEqual(['aes128-gcm@openssh.com']);
    const payload = 'x'.repeat(200_000) + 'end';
    expect(await roundTrip(relay, 22, payload)).toBe(payload);
    expect(await roundTrip(relay, 443, 'hello 443')).toBe('hello 443');
  });

  it('reconnects after a drop, the first retry within 100–300 ms', async () => {
    const log = startAgent();
    await eventually(() => log.connected.length === 1, 5_000, 'first connection');
    relay.dropAppliances();
    await eventually(() => log.connected.length === 2, 5_000, 'reconnection');
    expect(log.states).toEqual(['connecting', 'connected', 'connecting', 'connected']);
    expect(log.retries).toHaveLength(1);
    expect(log.retries[0]!.delayMs).toBeGreaterThanOrEqual(100);
    expect(log.retries[0]!.delayMs).toBeLessThan(300);
    expect(await roundTrip(relay, 22, 'after drop')).toBe('after drop');
  });

  it('reset drops the connection and reconnects at once with the same credential', async () => {
    const log = startAgent();
    await eventually(() => log.connected.length === 1, 5_000, 'first connection');
    agent!.reset();
    await eventually(() => log.connected.length === 2, 5_000, 'reconnection');
    expect(log.retries).toEqual([]); // no backoff wait on a reset
    expect(relay.accepted).toBe(2);
  });

  it('drain cancels every forward, ends the connection and closes', async () => {
    const log = startAgent();
    await eventually(() => log.connected.length === 1, 5_000, 'connected');
    await agent!.drain();
    expect(relay.cancels.map((c) => c.bindPort).sort()).toEqual([22, 443]);
    expect(log.states.slice(-2)).toEqual(['draining', 'closed']);
    expect(log.stopped).toMatchObject({ byCustomer: true, credentialRejected: false });
    await eventually(() => relay.current() === undefined, 2_000, 'connection closed');
  });

  it("a relay that never answers the cancel holds a drain up no longer than its budget (under the unit's stop timeout)", async () => {
    const clock = manualClock(Date.now());
    relay.ignoreCancels = true;
    const log = startAgent({ clock });
    await eventually(() => log.connected.length === 1, 5_000, 'connected');
    let drained = false;
    const draining = agent!.drain().then(() => (drained = true));
    await eventually(() => relay.cancels.length > 0, 5_000, 'the cancel asked');
    await clock.advance(DRAIN_CANCEL_BUDGET_MS - 1);
    expect(drained).toBe(false);
    await clock.advance(1);
    await eventually(() => drained, DRAIN_END_WAIT_MS + 1_000, 'the drain ended after its budget');
    await draining;
    expect(log.states.at(-1)).toBe('closed');
    await eventually(() => relay.current() === undefined, 2_000, 'connection ended');
  });

  it('stops for good when the relay rejects the credential after a drop (session over)', async () => {
    const log = startAgent();
    await eventually(() => log.connected.length === 1, 5_000, 'connected');
    relay.rejectAuth = true;
    relay.dropAppliances();
    await eventually(() => log.stopped !== undefined, 5_000, 'stopped');
    expect(log.stopped).toEqual({
      reason: 'refused by relay: the key is no longer valid (already used, revoked or expired)',
      code: 'relay_refused',
      credentialRejected: true,
      byCustomer: false,
    });
    expect(log.states.at(-1)).toBe('closed');
  });

  it('keeps retrying with growing jittered delays while the relay is unreachable', async () => {
    const port = relay.port;
    await relay.close();
    const log = startAgent({ relay: { host: '127.0.0.1', port, fp: relay.fingerprint }, backoff: { baseMs: 20, capMs: 60 } });
    await eventually(() => log.retries.length >= 4, 5_000, 'four retries');
    expect(log.retries.every((r) => r.delayMs < 60)).toBe(true);
    expect(log.retries[0]!.error).toMatch(/ECONNREFUSED/);
    expect(agent!.state).toBe('connecting');
    relay = await startFakeRelay({ serial: SERIAL, tunnelSeed: seed }); // for afterEach
  });

  it('stops by itself when the key expires', async () => {
    const log = startAgent({ expiresAt: Date.now() + 400 });
    await eventually(() => log.connected.length === 1, 5_000, 'connected');
    await eventually(() => log.stopped !== undefined, 5_000, 'expiry');
    expect(log.stopped).toMatchObject({ code: 'key_expired', byCustomer: false });
    expect(relay.cancels).toEqual([]); // expiry is the relay's business, not a customer disable
  });

  it('a relay that drops each connection right after the forwards gets growing delays, not a login every few hundred ms; a connection that lasted starts the backoff over', async () => {
    const clock = manualClock(Date.now());
    relay.endAfterForwards = 2;
    const log = startAgent({ clock, random: () => 0.5 });
    for (let i = 1; i <= 5; i++) {
      await eventually(() => log.retries.length === i, 5_000, `retry ${i}`);
      if (i === 5) relay.endAfterForwards = undefined; // the sixth connection lasts
      await clock.advance(log.retries[i - 1]!.delayMs);
    }
    await eventually(() => log.connected.length === 6 && agent!.state === 'connected', 5_000, 'a lasting sixth connection');
    expect(log.retries.map((r) => r.delayMs)).toEqual([200, 400, 800, 1_600, 3_200]);
    expect(relay.accepted).toBe(6);

    // Once a connection stays up for STABLE_CONNECTION_MS, the next drop retries fast again.
    await clock.advance(STABLE_CONNECTION_MS);
    relay.dropAppliances();
    await eventually(() => log.retries.length === 6, 5_000, 'retry after the lasting connection');
    expect(log.retries.map((r) => r.delayMs)).toEqual([200, 400, 800, 1_600, 3_200, 200]);
  });
});
