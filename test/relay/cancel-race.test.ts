// A customer's disable (`cancel-tcpip-forward`) whose own CLOSED event reaches the relay before the
// close command's reply: the event ends the tunnel first, and the agent must still hear its answer.
// (The relay used to answer after the connection had ended: the agent saw "No response from
// server".) The relay's session store here holds every close's reply until the event has ended the
// tunnel, which makes that order certain.
import { describe, expect, it } from 'vitest';
import { cancelForwards } from '../../appliance/tunnel/forwards.js';
import { openTunnel, useRelay } from './relay-fixture.js';
import { afterStoreCall, auditOf, uniqueSerial, waitFor, type Appliance } from './relay-harness.js';

const { h, services: { svcA } } = useRelay({
  harness: { relaySessions: (real) => afterStoreCall(real, 'close', tunnelEnded) },
  services: { svcA: 'A\n' },
});

async function tunnelEnded(): Promise<void> {
  await waitFor(() => h.relay.tunnelCount === 0, 'the CLOSED event ended the tunnel');
}

function cancel(app: Appliance, port: number): Promise<void> {
  return new Promise((resolve, reject) => app.client.unforwardIn('localhost', port, (err) => (err ? reject(err) : resolve())));
}

describe('customer disable racing its own CLOSED event', () => {
  it('answers the cancel before the connection ends, and records the disable once', async () => {
    const serial = uniqueSerial('CANCELRACE');
    const { sid, app } = await openTunnel(h, serial, { 22: svcA.port, 443: svcA.port });
    await cancel(app, 22);
    await app.closed;
    const s = await h.sessions.require(sid);
    expect(s.state).toBe('CLOSED');
    expect(s.reason).toBe('customer_disabled');
    expect(await auditOf(h, 'session.closed', { sid })).toHaveLength(1);
  });

  it("confirms the agent's disable, which cancels every port at once", async () => {
    const serial = uniqueSerial('CANCELBOTH');
    const { sid, app } = await openTunnel(h, serial, { 22: svcA.port, 443: svcA.port });
    expect(await cancelForwards(app.client, [22, 443], 5_000)).toBe(true);
    await app.closed;
    expect((await h.sessions.require(sid)).reason).toBe('customer_disabled');
    expect(await auditOf(h, 'session.closed', { sid })).toHaveLength(1);
  });
});
