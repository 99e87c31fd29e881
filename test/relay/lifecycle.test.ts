// Tunnel lifecycle at the relay: teardown orders, customer disable, replacement by a reconnect,
// concurrent first activations, drops, batched heartbeats and expiry.
import { describe, expect, it } from 'vitest';
import { openTunnel, useRelay } from './relay-fixture.js';
import { auditOf, connectAppliance, forwardPorts, issue, runSsh, sshW, uniqueSerial, waitFor, within } from './relay-harness.js';

const { h, services: { svcA, svcB }, engineers: { alice } } = useRelay({ harness: { heartbeatFlushMs: 100 }, services: { svcA: 'A\n', svcB: 'B\n' }, engineers: ['alice'] });

function connected(serial: string, ports: number[] = [22]) {
  return openTunnel(h, serial, Object.fromEntries(ports.map((p) => [p, svcA.port])));
}

describe('relay lifecycle', () => {
  it('closes an open engineer channel and the appliance connection within a second of sessions.close()', async () => {
    const serial = uniqueSerial('DOWN');
    const { sid, app } = await connected(serial);
    const run = runSsh(h, alice, ['-W', `${serial}:22`]);
    run.child.stdin!.write('ping');
    await waitFor(() => run.stdout().toString() === 'A\nping', 'echo through the open channel');
    const t0 = Date.now();
    await h.sessions.close(sid, 'revoked', 'test-operator', Date.now());
    const r = await within(run.done, 1000, 'engineer channel closed');
    const engineerGoneMs = Date.now() - t0;
    await within(app.closed, 1000, 'appliance connection closed');
    const applianceGoneMs = Date.now() - t0;
    expect(engineerGoneMs).toBeLessThan(1000);
    expect(applianceGoneMs).toBeLessThan(1000);
    expect(r.code).not.toBeNull();
    const closed = await waitFor(async () => (await auditOf(h, 'engineer.channel.closed', { sid }))[0], 'channel closed audit');
    expect(closed.fields).toMatchObject({ engineer: 'alice', bytesToAppliance: '4', bytesFromAppliance: '6' });
    expect(h.relay.tunnelCount).toBe(0);
    expect((await h.sessions.require(sid)).reason).toBe('revoked');
    expect(await auditOf(h, 'session.lost', { sid })).toHaveLength(0);
  });

  it('turns cancel-tcpip-forward into CLOSED with reason customer_disabled and ends the tunnel', async () => {
    const serial = uniqueSerial('DISABLE');
    const { sid, app } = await connected(serial, [22, 443]);
    await new Promise<void>((resolve, reject) => app.client.unforwardIn('localhost', 22, (err) => (err ? reject(err) : resolve())));
    await app.closed;
    const s = await h.sessions.require(sid);
    expect(s.state).toBe('CLOSED');
    expect(s.reason).toBe('customer_disabled');
    const entries = await auditOf(h, 'session.closed', { sid });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.fields).toMatchObject({ actor: `appliance:${serial}`, reason: 'customer_disabled' });
    const r = await sshW(h, alice, `${serial}:443`, Buffer.from('x'));
    expect(r.code).toBe(255);
  });

  it('lets a second appliance connection for the same session replace the first', async () => {
    const serial = uniqueSerial('RECONNECT');
    const { sid, seed, app: first } = await connected(serial);
    const second = await connectAppliance(h, { serial, seed });
    await forwardPorts(second, { 22: svcB.port });
    await first.closed;
    expect(second.isClosed()).toBe(false);
    const r = await sshW(h, alice, `${serial}:22`, Buffer.from('via-second'));
    expect(r.stdout.toString()).toBe('B\nvia-second');
    const s = await h.sessions.require(sid);
    expect(s.state).toBe('CONNECTED');
    expect(await auditOf(h, 'session.lost', { sid })).toHaveLength(0);
    expect(await auditOf(h, 'session.reconnected', { sid })).toHaveLength(1);
    second.end();
    await second.closed;
  });

  it('of 20 machines racing one key exactly one activates; the others hear "key already used" and the winner is never replaced', async () => {
    const serial = uniqueSerial('RACE');
    const issued = await issue(h, serial, { ports: [22] });
    const banners: string[] = [];
    const apps = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        connectAppliance(h, { serial, seed: issued.seed, machine: `racer-${i}`, onBanner: (t) => banners.push(t.trim()) }).catch(() => null),
      ),
    );
    const winners = apps.filter((a): a is NonNullable<typeof a> => a !== null);
    expect(winners).toHaveLength(1);
    expect(banners).toHaveLength(19);
    expect(new Set(banners)).toEqual(new Set(['tether relay: key already used']));
    const winner = winners[0]!;
    await forwardPorts(winner, { 22: svcA.port });
    await waitFor(() => h.relay.tunnelCount === 1, 'one tunnel');
    expect(await auditOf(h, 'session.activated', { sid: issued.session.id })).toHaveLength(1);
    expect(await auditOf(h, 'key.reuse_refused', { sid: issued.session.id })).toHaveLength(19);
    // Late-comers, again, are refused at once and do not touch the live tunnel.
    const late = await connectAppliance(h, { serial, seed: issued.seed, machine: 'late' }).catch((e: Error) => e);
    expect(late).toBeInstanceOf(Error);
    expect(winner.isClosed()).toBe(false);
    expect(await auditOf(h, 'session.reconnected', { sid: issued.session.id })).toHaveLength(0);
    expect((await h.sessions.require(issued.session.id)).state).toBe('CONNECTED');
    winner.end();
  });

  it('a login with the appliance key that asks for a shell instead of forwards leaves the live tunnel alone', async () => {
    const serial = uniqueSerial('SHELL');
    const { sid, app, seed } = await connected(serial);
    const again = await connectAppliance(h, { serial, seed });
    const shell = await new Promise<Error | undefined>((resolve) => again.client.exec('id', (err) => resolve(err ?? undefined)));
    expect(shell).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 200));
    expect(app.isClosed()).toBe(false);
    expect(h.relay.tunnelCount).toBeGreaterThanOrEqual(1);
    expect(await auditOf(h, 'session.reconnected', { sid })).toHaveLength(0);
    expect((await h.sessions.require(sid)).state).toBe('CONNECTED');
    again.end();
    await again.closed;
    await new Promise((r) => setTimeout(r, 200));
    expect(app.isClosed()).toBe(false);
    expect((await h.sessions.require(sid)).state).toBe('CONNECTED');
    app.end();
  });

  it('marks the session LOST when the appliance connection drops without a cancel', async () => {
    const serial = uniqueSerial('DROP');
    const { sid, app } = await connected(serial);
    app.end();
    await waitFor(async () => (await h.sessions.get(sid))?.state === 'LOST', 'LOST');
    const lost = await auditOf(h, 'session.lost', { sid });
    expect(lost).toHaveLength(1);
    expect(lost[0]!.fields.actor).toBe('relay:test-relay');
    expect(await h.redis.zscore(h.sessions.keys.lastSeen, sid)).toBeNull();
  });

  it('declares a live tunnel CONNECTED again when its session is marked LOST meanwhile', async () => {
    const serial = uniqueSerial('HEAL');
    const { sid, app } = await connected(serial);
    await h.sessions.apply(sid, 'lose', { actor: 'test-monitor', now: Date.now() });
    await waitFor(async () => (await h.sessions.get(sid))?.state === 'CONNECTED', 'CONNECTED again');
    expect((await h.sessions.require(sid)).relayId).toBe('test-relay');
    const r = await sshW(h, alice, `${serial}:22`, Buffer.from('still here'));
    expect(r.stdout.toString()).toBe('A\nstill here');
    app.end();
    await app.closed;
    await waitFor(async () => (await h.sessions.get(sid))?.state === 'LOST', 'LOST after the real drop');
  });

  it('writes heartbeats for all live tunnels in one batch into the lastSeen zset', async () => {
    const tunnels = await Promise.all([1, 2, 3].map((i) => connected(uniqueSerial(`BEAT${i}`))));
    const since = Date.now();
    const scores = await waitFor(async () => {
      const all = await Promise.all(tunnels.map((t) => h.redis.zscore(h.sessions.keys.lastSeen, t.sid)));
      const nums = all.map(Number);
      // One batch = one `now` for every tunnel; a per-tunnel write would stamp different times.
      return nums.every((n) => n > since) && new Set(nums).size === 1 ? nums : undefined;
    }, 'a batched heartbeat after the tunnels came up');
    expect(scores).toHaveLength(3);
    for (const t of tunnels) t.app.end();
    await Promise.all(tunnels.map((t) => t.app.closed));
  });

  it('closes expired sessions on the heartbeat tick, but not sessions extended meanwhile', async () => {
    const expiring = await connected(uniqueSerial('EXPIRE'));
    const extended = await connected(uniqueSerial('EXTEND'));
    await h.sessions.extend(extended.sid, Date.now() + 3 * 3_600_000, 'test-operator', Date.now());
    h.clock.skewMs = 2 * 3_600_000; // both were issued for one hour
    try {
      await expiring.app.closed;
      const s = await h.sessions.require(expiring.sid);
      expect(s.state).toBe('CLOSED');
      expect(s.reason).toBe('expired');
      // A few more ticks: the extended one stays up.
      const seen = Date.now();
      await waitFor(async () => Number(await h.redis.zscore(h.sessions.keys.lastSeen, extended.sid)) > seen + h.clock.skewMs, 'later heartbeat');
      expect(extended.app.isClosed()).toBe(false);
      expect((await h.sessions.require(extended.sid)).state).toBe('CONNECTED');
      // An expired key is refused at login, and the session is closed as expired.
      const late = await issue(h, uniqueSerial('LATE'), { ports: [22] });
      await expect(connectAppliance(h, { serial: late.session.serial, seed: late.seed })).rejects.toThrow(/authentication methods failed/);
      const lateSession = await h.sessions.require(late.session.id);
      expect(lateSession).toMatchObject({ state: 'CLOSED', reason: 'expired' });
    } finally {
      h.clock.skewMs = 0;
      extended.app.end();
    }
  });
});
