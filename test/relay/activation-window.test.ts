// The window between an activation's transition (the session is CONNECTED at login, in Redis) and
// the tunnel's registration (on ssh2's `ready`, after the accept): the relay's session store here
// holds each activation's reply while the test does something in that window. (The relay used to
// register whatever came out of it: a dead connection kept its session CONNECTED, and a session
// closed in the window got a live tunnel nobody would end.)
import { setTimeout as sleep } from 'node:timers/promises';
import type ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { useRelay } from './relay-fixture.js';
import { afterStoreCall, connectAppliance, issue, uniqueSerial, waitFor } from './relay-harness.js';

/** Runs once, inside the next activation, after its transition and before the relay goes on. */
let inWindow: (() => Promise<void>) | undefined;

const { h } = useRelay({
  harness: {
    relaySessions: (real) =>
      afterStoreCall(real, 'activate', async () => {
        const step = inWindow;
        inWindow = undefined;
        await step?.();
      }),
  },
});

describe('an activation that comes up while something else happens', () => {
  it('marks the session LOST when the appliance drops before its tunnel is registered', async () => {
    const serial = uniqueSerial('ACTDROP');
    const issued = await issue(h, serial, { ports: [22] });
    const before = h.relay.connectionCount;
    let client: ssh2.Client | undefined;
    inWindow = async () => {
      expect((await h.sessions.require(issued.session.id)).state).toBe('CONNECTED');
      client?.destroy();
      await waitFor(() => h.relay.connectionCount === before, 'the relay saw the connection close');
    };
    // A client destroyed before `ready` emits neither ready nor error: the promise just stays pending.
    let ready = false;
    void connectAppliance(h, { serial, seed: issued.seed, onClient: (c) => (client = c) }).then(
      () => (ready = true),
      () => undefined,
    );
    await waitFor(async () => (await h.sessions.get(issued.session.id))?.state === 'LOST', 'the session LOST');
    expect(ready).toBe(false);
    expect(h.relay.tunnelCount).toBe(0);
  });

  it('ends the tunnel of a session closed before its tunnel is registered', async () => {
    const serial = uniqueSerial('ACTCLOSE');
    const issued = await issue(h, serial, { ports: [22] });
    const sid = issued.session.id;
    inWindow = async () => {
      await h.sessions.close(sid, 'revoked', 'operator:test', Date.now());
      // The CLOSED event reaches the relay's subscriber now, while no tunnel is registered.
      await sleep(300);
    };
    const app = await connectAppliance(h, { serial, seed: issued.seed });
    await waitFor(() => app.isClosed(), 'the relay ended the appliance connection');
    expect(h.relay.tunnelCount).toBe(0);
    expect((await h.sessions.require(sid)).state).toBe('CLOSED');
  });
});
