// The agent pins the relay host key from the key: a relay with another host key never sees the
// credential (no userauth at all) and the agent stops for good with the mismatch reason.
import { afterEach, describe, expect, it } from 'vitest';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { TunnelAgent, type TunnelStopped } from '../../appliance/tunnel/tunnel-agent.js';
import type { AgentState } from '../../appliance/agent-state.js';
import { startFakeRelay, type FakeRelay } from './fake-relay.js';

const SERIAL = 'K1000-PIN001';
let relay: FakeRelay | undefined;
let agent: TunnelAgent | undefined;

afterEach(async () => {
  await agent?.close();
  await relay?.close();
  agent = relay = undefined;
});

function run(fp: string, tunnelSeed: Buffer) {
  const states: AgentState[] = [];
  const retries: string[] = [];
  const stopped = new Promise<TunnelStopped>((resolve, reject) => {
    agent = new TunnelAgent({
      relay: { host: '127.0.0.1', port: relay!.port, fp },
      username: SERIAL,
      privateKey: openSshPrivateKeyFromSeed(generateSeed()),
      activationKey: openSshPrivateKeyFromSeed(tunnelSeed),
      forwards: [{ port: 22, target: { host: '127.0.0.1', port: 1 } }],
      expiresAt: Date.now() + 60_000,
      events: {
        state: (s) => states.push(s),
        retrying: (r) => retries.push(r.error),
        stopped: resolve,
        connected: () => reject(new Error('the agent connected to a relay with the wrong host key')),
      },
    });
    agent.start();
  });
  return { states, retries, stopped };
}

describe('relay host key pin', () => {
  it('refuses a relay whose host key differs from the key’s fingerprint, before any authentication', async () => {
    const tunnelSeed = generateSeed();
    relay = await startFakeRelay({ serial: SERIAL, tunnelSeed });
    const pinned = 'SHA256:' + Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '');
    const { states, retries, stopped } = run(pinned, tunnelSeed);
    const info = await stopped;
    expect(info.code).toBe('relay_host_key_mismatch');
    expect(info.reason).toBe(`relay host key does not match the key (expected ${pinned}, got ${relay.fingerprint})`);
    expect(info.credentialRejected).toBe(false);
    expect(relay.auths).toEqual([]); // the 'authentication' event never fired
    expect(retries).toEqual([]); // permanent: no retry
    expect(states).toEqual(['connecting', 'closed']);
  });

  it('authenticates when the fingerprint matches (the same set-up can pass)', async () => {
    const tunnelSeed = generateSeed();
    relay = await startFakeRelay({ serial: SERIAL, tunnelSeed });
    const connected = new Promise<void>((resolve) => {
      agent = new TunnelAgent({
        relay: { host: '127.0.0.1', port: relay!.port, fp: relay!.fingerprint },
        username: SERIAL,
        privateKey: openSshPrivateKeyFromSeed(generateSeed()),
      activationKey: openSshPrivateKeyFromSeed(tunnelSeed),
        forwards: [{ port: 22, target: { host: '127.0.0.1', port: 1 } }],
        expiresAt: Date.now() + 60_000,
        events: { connected: () => resolve() },
      });
      agent.start();
    });
    await connected;
    expect(relay.auths).toContain(SERIAL);
    expect(relay.accepted).toBe(1);
  });
});
