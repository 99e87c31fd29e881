// A relay fleet on one Redis: three relays, an appliance on relay A, the engineer's stock OpenSSH on
// relay B. Channels cross B → A over one authenticated peer link, after B's own checks, counted and
// audited once; the peer listener admits only registered relays, and only to tunnels held there;
// drain moves appliances without a LOST, a crash-and-takeover records one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateSeed, openSshPrivateKeyFromSeed, rawPublicFromSeed } from '../../shared/ssh-keys.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';
import { openTunnel, type EchoService, type Tunnel } from './relay-fixture.js';
import { addEngineer, auditOf, connectAppliance, forwardPorts, runSsh, sshW, startHarness, startService, uniqueSerial, waitFor, within, type EngineerKey, type Harness } from './relay-harness.js';

let share: { prefix: string; dir: string };
let a: Harness;
let b: Harness;
let c: Harness;
let fleet: RelayFleetStore;
let sshd: EchoService;
let https: EchoService;
let alice: EngineerKey;

beforeAll(async () => {
  share = { prefix: randomPrefix(), dir: mkdtempSync(join(tmpdir(), 'tether-fleet-test-')) };
  const url = inject('redisUrl');
  const started = await Promise.all(['relay-a', 'relay-b', 'relay-c'].map((relayId) => startHarness(url, { relayId, fleet: share })));
  [a, b, c] = started as [Harness, Harness, Harness];
  fleet = new RelayFleetStore(a.redis, share.prefix);
  sshd = await startService('SSH-SERVICE\n');
  https = await startService('HTTPS-SERVICE\n');
  alice = await addEngineer(b, 'alice');
});

afterAll(async () => {
  await Promise.all([a, b, c].map((h) => h?.close()));
  if (a) await deletePrefix(a.redis, share.prefix).catch(() => undefined);
  rmSync(share.dir, { recursive: true, force: true });
  await sshd?.close();
  await https?.close();
});

function applianceOn(h: Harness, tag: string): Promise<Tunnel> {
  return openTunnel(h, uniqueSerial(tag), { 22: sshd.port, 443: https.port });
}

describe('relay fleet', () => {
  it('registers every relay with its peer address, host key and load, and drops a relay that leaves', async () => {
    const regs = await fleet.list();
    expect(regs.map((r) => r.id).sort()).toEqual(['relay-a', 'relay-b', 'relay-c']);
    const ra = regs.find((r) => r.id === 'relay-a')!;
    expect(ra).toMatchObject({ peer: { host: '127.0.0.1', port: a.relay.peerPort }, hostKeyFp: a.hostKey.fingerprint, state: 'serving' });
    expect(ra.peer.port).not.toBe(a.port); // peers never use the public port
  });

  it('carries an engineer on relay B to :22 and :443 of a tunnel on relay A, audited and counted once, by B', async () => {
    const { serial, sid, app } = await applianceOn(a, 'CROSS');
    expect((await a.sessions.require(sid)).relayId).toBe('relay-a');
    const r22 = await sshW(b, alice, `${serial.toLowerCase()}:22`, Buffer.from('ping-22'));
    expect(r22.stderr).toBe('');
    expect(r22.stdout.toString()).toBe('SSH-SERVICE\nping-22');
    const r443 = await sshW(b, alice, `${serial}:443`, Buffer.from('ping-443'));
    expect(r443.stdout.toString()).toBe('HTTPS-SERVICE\nping-443');
    const closed = await waitFor(async () => {
      const e = await auditOf(b, 'engineer.channel.closed', { sid });
      return e.length === 2 ? e : null;
    }, 'two closed entries');
    // One entry per channel (not one per relay), naming the holder; bytes as the engineer saw them.
    expect(closed.map((e) => e.fields.via)).toEqual(['relay-a', 'relay-a']);
    expect(closed.map((e) => e.fields.engineer)).toEqual(['alice', 'alice']);
    expect(closed[0]!.fields.bytesToAppliance).toBe(String('ping-22'.length));
    expect(closed[0]!.fields.bytesFromAppliance).toBe(String('SSH-SERVICE\nping-22'.length));
    expect(await auditOf(b, 'engineer.channel.opened', { sid })).toHaveLength(2);
    // One link from B to A multiplexes both channels.
    app.end();
  });

  it('closes a channel crossing B → A within a second when the session is revoked', async () => {
    const { serial, sid, app } = await applianceOn(a, 'REVOKE');
    const run = runSsh(b, alice, ['-W', `${serial}:22`]);
    await waitFor(() => run.stdout().toString().startsWith('SSH-SERVICE'), 'banner through the crossing channel');
    const t0 = Date.now();
    await c.sessions.close(sid, 'revoked', 'operator:test', Date.now());
    await within(run.done, 2_000, 'the crossing channel to close');
    expect(Date.now() - t0).toBeLessThan(1_000);
    await within(app.closed, 2_000, 'the appliance connection to end');
  });

  it('applies the per-session access check on the engineer relay, and a withdrawn grant ends the crossing channel', async () => {
    const url = inject('redisUrl');
    const strict = await startHarness(url, { relayId: 'relay-strict', fleet: share, engineerPolicy: 'assigned' });
    try {
      const bob = await addEngineer(strict, 'bob');
      const { serial, sid, app } = await applianceOn(a, 'ACCESS');
      const refused = await sshW(strict, bob, `${serial}:22`, Buffer.from('x'));
      expect(refused.code).toBe(255);
      expect(refused.stderr).toMatch(/not authorised for the tether/);
      const session = await a.sessions.require(sid);
      await a.access.grant(session, 'bob', 'operator:test', Date.now());
      const run = runSsh(strict, bob, ['-W', `${serial}:443`]);
      await waitFor(() => run.stdout().toString().startsWith('HTTPS-SERVICE'), 'granted crossing channel');
      await a.access.revokeGrant(session, 'bob', 'operator:test', Date.now());
      await within(run.done, 2_000, 'the crossing channel to end on the withdrawn grant');
      app.end();
    } finally {
      await strict.close();
    }
  });

  it('admits on the peer listener only a registered relay with its fleet key, and only to tunnels held there', async () => {
    const { serial, sid, app } = await applianceOn(a, 'PEER');
    const peerPort = a.relay.peerPort!;
    const pinned = (key: Buffer) => key.equals(Buffer.from(a.hostKey.publicLine.split(/\s+/)[1] ?? '', 'base64'));
    const dial = (username: string, privateKey: string) =>
      new Promise<ssh2.Client>((resolve, reject) => {
        const client = new ssh2.Client();
        client.once('ready', () => resolve(client));
        client.once('error', reject);
        client.connect({ host: '127.0.0.1', port: peerPort, username, privateKey, hostVerifier: pinned, readyTimeout: 5_000 });
      });
    // An engineer's key, an appliance's key, an unregistered relay: refused at login.
    const stranger = openSshPrivateKeyFromSeed(generateSeed());
    await expect(dial('alice', stranger)).rejects.toThrow(/authentication/i);
    await expect(dial('relay-nobody', stranger)).rejects.toThrow(/authentication/i);
    // A registered relay's name with another key: refused.
    await expect(dial('relay-b', stranger)).rejects.toThrow(/authentication/i);
    // A relay registered with this key: admitted, but only to tunnels relay A holds, on forwarded ports.
    const seed = generateSeed();
    const reg = (await fleet.get('relay-b'))!;
    await fleet.renew({ ...reg, id: 'relay-test-peer', fleetKey: rawPublicFromSeed(seed).toString('base64'), renewedAt: Date.now() }, 30_000);
    const peer = await dial('relay-test-peer', openSshPrivateKeyFromSeed(seed));
    const open = (srcIP: string, host: string, port: number) =>
      new Promise<string>((resolve) => {
        peer.forwardOut(srcIP, 0, host, port, (err, ch) => {
          if (err) return resolve(`refused: ${err.message}`);
          ch.once('data', (d: Buffer) => {
            resolve(d.toString());
            ch.close();
          });
        });
      });
    expect(await open(sid, serial, 22)).toBe('SSH-SERVICE\n');
    expect(await open('another-session', serial, 22)).toMatch(/refused: .*not held by relay relay-a/);
    expect(await open(sid, serial, 3306)).toMatch(/refused: .*port 3306 is not open/);
    expect(await open(sid, '127.0.0.1', 6379)).toMatch(/refused/);
    const { serial: elsewhere, sid: sidB, app: appB } = await applianceOn(b, 'NOTHERE');
    expect(await open(sidB, elsewhere, 22)).toMatch(/refused: .*not held by relay relay-a/);
    const shell = await new Promise<string>((resolve) => peer.exec('true', (err) => resolve(err ? 'refused' : 'opened')));
    expect(shell).toBe('refused');
    // Nothing of this was audited as an engineer channel: the peer relay audits its own engineers.
    expect(await auditOf(a, 'engineer.channel.opened', { sid })).toHaveLength(0);
    peer.end();
    await fleet.leave('relay-test-peer');
    app.end();
    appB.end();
  });

  it('records a takeover after a relay vanished as LOST then reconnected, and the old relay lets go', async () => {
    const url = inject('redisUrl');
    const doomed = await startHarness(url, { relayId: 'relay-doomed', fleet: share });
    const { serial, sid, seed, app } = await applianceOn(doomed, 'CRASH');
    // The relay is gone without a word (its sockets too): the agent comes back through relay C.
    await doomed.close();
    await app.closed;
    const back = await connectAppliance(c, { serial, seed });
    await forwardPorts(back, { 22: sshd.port });
    await waitFor(async () => (await c.sessions.get(sid))?.relayId === 'relay-c', 'session held by relay C');
    const types = (await c.audit.list()).filter((e) => e.fields.sid === sid).map((e) => e.type);
    expect(types).toEqual(['session.issued', 'session.activated', 'session.lost', 'session.reconnected']);
    expect((await c.sessions.require(sid)).state).toBe('CONNECTED');
    // An engineer on B reaches it through C now.
    const r = await sshW(b, alice, `${serial}:22`, Buffer.from('after'));
    expect(r.stdout.toString()).toBe('SSH-SERVICE\nafter');
    back.end();
  });

  it('drains: appliances are sent on with no LOST, a crossing channel through the draining relay is waited for', async () => {
    const url = inject('redisUrl');
    const leaving = await startHarness(url, { relayId: 'relay-leaving', fleet: share });
    try {
      const idle = await applianceOn(leaving, 'DRAIN-IDLE');
      const busy = await applianceOn(a, 'DRAIN-BUSY');
      const eng = await addEngineer(leaving, 'carol');
      const run = runSsh(leaving, eng, ['-W', `${busy.serial}:22`]);
      await waitFor(() => run.stdout().toString().startsWith('SSH-SERVICE'), 'crossing channel through the leaving relay');
      const drained = leaving.relay.drain(10_000);
      // The idle appliance is told to move at once; the relay takes no new logins.
      await within(idle.app.closed, 2_000, 'the idle appliance to be sent on');
      expect((await fleet.get('relay-leaving'))?.state).toBe('draining');
      // The crossing channel still works while the relay drains.
      run.child.stdin!.write('still-here');
      await waitFor(() => run.stdout().toString().endsWith('still-here'), 'echo during drain');
      const back = await connectAppliance(b, { serial: idle.serial, seed: idle.seed });
      await forwardPorts(back, { 22: sshd.port });
      await waitFor(async () => (await b.sessions.get(idle.sid))?.relayId === 'relay-b', 'moved to relay B');
      run.child.stdin!.end();
      await within(run.done, 2_000, 'the engineer to finish');
      const report = await within(drained, 5_000, 'the drain to finish');
      expect(report.cut).toBe(0);
      const types = (await b.audit.list()).filter((e) => e.fields.sid === idle.sid).map((e) => e.type);
      expect(types).toEqual(['session.issued', 'session.activated', 'session.reconnected']);
      back.end();
      busy.app.end();
    } finally {
      await leaving.close();
    }
  });
});
