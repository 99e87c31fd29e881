// The daemon's escrow delivery with a driven clock: sent on connection, retried on the same
// connection after a refusal or no answer, again after a reconnect, and never again once the relay
// acknowledged it; the same bytes every time.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EscrowDelivery } from '../../appliance/daemon/escrow-delivery.js';
import type { GlobalReply } from '../../appliance/tunnel/global-request.js';
import { sealPassword } from '../../shared/key/password-escrow.js';
import { credentialSecretFrom, custodyKeyFrom } from '../../shared/store/credential.store.js';
import { manualClock } from '../helpers/manual-clock.js';

const custody = custodyKeyFrom(credentialSecretFrom(generateKeyPairSync('ed25519').privateKey));
const box = sealPassword(custody.publicRaw, 'Appliance-Passw0rd-1', 'K1000-DLV', 'sid-0000000000001');

function delivery(replies: (GlobalReply | Error)[]) {
  const clock = manualClock();
  const sent: Buffer[] = [];
  const log: string[] = [];
  let acknowledged = 0;
  const d = new EscrowDelivery({
    box,
    clock,
    retryMs: [1_000, 2_000],
    log: (m) => log.push(m),
    acknowledged: () => void acknowledged++,
    request: async (data) => {
      sent.push(data);
      const r = replies.shift() ?? new Error('no more replies');
      if (r instanceof Error) throw r;
      return r;
    },
  });
  return { d, clock, sent, log, acks: () => acknowledged };
}

describe('escrow delivery', () => {
  it('is acknowledged on the first connection and never sent again', async () => {
    const t = delivery(['success']);
    await t.d.onConnected();
    expect(t.acks()).toBe(1);
    expect(t.d.acknowledged).toBe(true);
    t.d.onDisconnected();
    await t.d.onConnected();
    expect(t.sent).toHaveLength(1);
    expect(t.log).toContain('support password escrowed: the relay acknowledged it');
  });

  it('is retried on the same connection after a refusal and after no answer, the same bytes each time', async () => {
    const t = delivery(['failure', new Error('no answer to escrow-password@tether within 5000 ms'), 'success']);
    await t.d.onConnected();
    expect(t.acks()).toBe(0);
    await t.clock.advance(999);
    expect(t.sent).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.sent).toHaveLength(2);
    await t.clock.advance(2_000);
    expect(t.sent).toHaveLength(3);
    expect(t.acks()).toBe(1);
    expect(new Set(t.sent.map((b) => b.toString('hex'))).size).toBe(1);
  });

  it('after the last retry waits for the next connection, and a retry armed for a dropped one never runs', async () => {
    const t = delivery(['failure', 'failure', 'failure', 'failure', 'success']);
    await t.d.onConnected();
    await t.clock.advance(1_000);
    await t.clock.advance(2_000);
    expect(t.sent).toHaveLength(3);
    expect(t.clock.pending()).toBe(0);
    expect(t.log.at(-1)).toBe('password escrow refused by the relay; trying again after the next reconnect');

    await t.d.onConnected(); // reconnect: sent at once, refused, a retry armed
    expect(t.sent).toHaveLength(4);
    expect(t.clock.pending()).toBe(1);
    t.d.onDisconnected();
    expect(t.clock.pending()).toBe(0);
    await t.clock.advance(10_000);
    expect(t.sent).toHaveLength(4);

    await t.d.onConnected();
    expect(t.sent).toHaveLength(5);
    expect(t.acks()).toBe(1);
  });
});
