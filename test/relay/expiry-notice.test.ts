// The relay tells the agent its session's expiry (`expiry@tether`): on every connection, after the
// first accepted forward, and when an operator extends the session; the agent's timer follows it.
// A real relay on real Redis and a real TunnelAgent (ssh2 on both sides).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TunnelAgent } from '../../appliance/tunnel/tunnel-agent.js';
import { decodeExpiryNotice, encodeExpiryNotice } from '../../shared/relay-protocol.js';
import { extendSession } from '../../shared/session/extend-session.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { issue, startHarness, uniqueSerial, waitFor, type Harness } from './relay-harness.js';

let h: Harness;
const agents: TunnelAgent[] = [];

beforeAll(async () => {
  h = await startHarness(inject('redisUrl'));
});

afterAll(async () => {
  for (const a of agents) await a.close();
  await h?.close();
});

function startAgent(serial: string, seed: Buffer, expiresAt: number) {
  const seen = { connections: 0, expiries: [] as number[], log: [] as string[] };
  const agent = new TunnelAgent({
    relay: { host: '127.0.0.1', port: h.port, fp: h.hostKey.fingerprint },
    username: serial,
    privateKey: openSshPrivateKeyFromSeed(generateSeed()),
    activationKey: openSshPrivateKeyFromSeed(seed),
    forwards: [{ port: 22, target: { host: '127.0.0.1', port: 9 } }],
    expiresAt,
    backoff: { baseMs: 20, capMs: 200 },
    events: {
      connected: () => void seen.connections++,
      expiry: ({ expiresAt: at }) => void seen.expiries.push(at),
      log: (m) => void seen.log.push(m),
    },
  });
  agents.push(agent);
  agent.start();
  return { agent, seen };
}

describe('expiry notices from the relay', () => {
  it('an extension reaches the connected agent, which moves its own expiry', async () => {
    const serial = uniqueSerial('EXP');
    const { session, seed } = await issue(h, serial, { ttlMs: 3_600_000 });
    const { agent, seen } = startAgent(serial, seed, session.expiresAt);
    await waitFor(() => seen.connections === 1, 'the agent connected');
    // The first notice repeats what the key said: nothing moves.
    expect(seen.expiries).toEqual([]);
    expect(agent.expiresAt).toBe(session.expiresAt);

    const extended = await extendSession(h.sessions, { id: session.id, ttlMs: 5 * 3_600_000, actor: 'op:test', now: Date.now() });
    expect(extended.expiresAt).toBeGreaterThan(session.expiresAt);
    await waitFor(() => seen.expiries.length === 1, 'the expiry notice');
    expect(seen.expiries).toEqual([extended.expiresAt]);
    expect(agent.expiresAt).toBe(extended.expiresAt);
    expect(seen.log).toContain(`relay says the session now expires at ${new Date(extended.expiresAt).toISOString()}`);
    expect(agent.state).toBe('connected');
  });

  it('an expiry moved while the event was missed reaches the agent on its next connection', async () => {
    const serial = uniqueSerial('EXPRC');
    const { session, seed } = await issue(h, serial, { ttlMs: 3_600_000 });
    const { agent, seen } = startAgent(serial, seed, session.expiresAt);
    await waitFor(() => seen.connections === 1, 'the agent connected');
    // Written behind the relay's back: no event, as if the relay's subscriber had been away.
    const later = session.expiresAt + 7_200_000;
    await h.redis.hset(h.sessions.keys.session(session.id), 'expiresAt', String(later));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.expiries).toEqual([]);
    agent.reset();
    await waitFor(() => seen.connections === 2, 'the agent reconnected');
    await waitFor(() => seen.expiries.length === 1, 'the expiry notice after the reconnect');
    expect(agent.expiresAt).toBe(later);
  });

  it('extending a session whose tunnel is elsewhere or absent changes nothing here', async () => {
    const serial = uniqueSerial('EXPNONE');
    const { session } = await issue(h, serial, { ttlMs: 3_600_000 });
    const extended = await extendSession(h.sessions, { id: session.id, ttlMs: 2 * 3_600_000, actor: 'op:test', now: Date.now() });
    expect((await h.sessions.require(session.id)).expiresAt).toBe(extended.expiresAt);
    expect((await h.sessions.require(session.id)).state).toBe('ISSUED');
  });
});

describe('the expiry notice on the wire', () => {
  it('round-trips an epoch-ms time as an SSH string', () => {
    expect(decodeExpiryNotice(encodeExpiryNotice(1_796_000_000_123))).toBe(1_796_000_000_123);
  });

  it('rejects what is not one: empty, wrong length, not a number, a leading zero, too long', () => {
    const str = (s: string) => Buffer.concat([Buffer.from([0, 0, 0, s.length]), Buffer.from(s)]);
    expect(decodeExpiryNotice(Buffer.alloc(0))).toBeNull();
    expect(decodeExpiryNotice(Buffer.from([0, 0, 0, 9, 0x31]))).toBeNull();
    expect(decodeExpiryNotice(str('soon'))).toBeNull();
    expect(decodeExpiryNotice(str('0123'))).toBeNull();
    expect(decodeExpiryNotice(str('-5'))).toBeNull();
    expect(decodeExpiryNotice(str('12345678901234567'))).toBeNull();
  });
});
