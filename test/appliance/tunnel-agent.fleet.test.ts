// The tunnel agent with a key that names a fleet of relays (issue 10): a relay that does not answer
// sends it on to the next one, in order, and a relay that works is kept after a drop.
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { TunnelAgent } from '../../appliance/tunnel/tunnel-agent.js';
import { eventually, startFakeRelay, type FakeRelay } from './fake-relay.js';

const SERIAL = 'K1000-FLEET9';
const seed = generateSeed();
let relay: FakeRelay | undefined;
let agent: TunnelAgent | undefined;

afterEach(async () => {
  await agent?.close();
  await relay?.close();
});

/** A port nobody listens on. */
async function deadPort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('tunnel agent with a fleet of relays', () => {
  it('moves on from a relay that refuses connections to the next one, and stays with it after a drop', async () => {
    relay = await startFakeRelay({ serial: SERIAL, tunnelSeed: seed });
    const dead = { host: '127.0.0.1', port: await deadPort(), fp: relay.fingerprint };
    const live = { host: '127.0.0.1', port: relay.port, fp: relay.fingerprint };
    const dialled: number[] = [];
    let connections = 0;
    agent = new TunnelAgent({
      relay: dead,
      relays: [dead, live],
      username: SERIAL,
      privateKey: openSshPrivateKeyFromSeed(generateSeed()),
      activationKey: openSshPrivateKeyFromSeed(seed),
      forwards: [{ port: 22, target: { host: '127.0.0.1', port: 9 } }],
      expiresAt: Date.now() + 60_000,
      backoff: { baseMs: 20, capMs: 200 },
      events: {
        log: (m) => {
          const port = /connecting to relay 127\.0\.0\.1:(\d+)/.exec(m)?.[1];
          if (port) dialled.push(Number(port));
        },
        connected: () => void connections++,
      },
    });
    agent.start();
    await eventually(() => connections === 1, 5_000, 'connected through the second relay');
    expect(dialled).toEqual([dead.port, live.port]);
    relay.dropAppliances();
    await eventually(() => connections === 2, 5_000, 'reconnected');
    // Pinned: the reconnect went straight back to the relay that worked.
    expect(dialled).toEqual([dead.port, live.port, live.port]);
  });
});
