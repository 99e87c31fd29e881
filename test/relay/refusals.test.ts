// Default deny: everything the relay rules do not allow is refused with a reason, and a refusal
// changes nothing (session record and audit stay as they were, apart from the refusal's entry).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateSeed } from '../../shared/ssh-keys.js';
import { openTunnel, useRelay } from './relay-fixture.js';
import { addEngineer, auditOf, connectAppliance, issue, runSsh, sshW, uniqueSerial, waitFor, within, type Appliance } from './relay-harness.js';

const { h, services: { svc }, engineers: { alice } } = useRelay({ services: { svc: 'SERVICE\n' }, engineers: ['alice'] });
let app: Appliance;
let serial: string;
let sid: string;

/** Everything a refusal must leave alone. */
async function snapshot(id: string) {
  const session = await h.redis.hgetall(h.sessions.keys.session(id));
  const audit = (await h.audit.list()).filter((e) => e.type !== 'engineer.channel.refused').map((e) => e.id);
  return { session, audit };
}

async function refusedCount(): Promise<number> {
  return (await auditOf(h, 'engineer.channel.refused')).length;
}

beforeAll(async () => {
  // Port 80 is allowed but not forwarded.
  ({ app, serial, sid } = await openTunnel(h, uniqueSerial('DENY'), { 22: svc.port, 443: svc.port }, [22, 80, 443]));
});

afterAll(() => app?.end());

describe('engineer refusals', () => {
  async function expectChannelRefused(target: string, reason: RegExp) {
    const before = await snapshot(sid);
    const refusedBefore = await refusedCount();
    const connectionsBefore = svc.connections();
    const r = await sshW(h, alice, target, Buffer.from('hello'));
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/open failed: administratively prohibited: /);
    expect(r.stderr).toMatch(reason);
    expect(r.stdout.length).toBe(0);
    const [host, port] = target.split(':');
    const entry = await waitFor(async () => {
      const all = await auditOf(h, 'engineer.channel.refused');
      return all.length > refusedBefore ? all.at(-1) : undefined;
    }, 'refusal audit');
    expect(entry.fields).toMatchObject({ engineer: 'alice', host, port });
    expect(entry.fields.reason).toMatch(reason);
    expect(await refusedCount()).toBe(refusedBefore + 1);
    expect(await snapshot(sid)).toEqual(before);
    expect(svc.connections()).toBe(connectionsBefore);
  }

  it('refuses an unknown engineer key at login and changes nothing', async () => {
    const registeredOther = await addEngineer(h, 'bob'); // bob exists, but this is not his key
    const strangerKey = { ...(await addEngineer(h, 'bob', false)) };
    const mallory = await addEngineer(h, 'mallory', false); // no such engineer at all
    for (const eng of [strangerKey, mallory]) {
      const before = await snapshot(sid);
      const refusedBefore = await refusedCount();
      const r = await sshW(h, eng, `${serial}:22`, Buffer.from('x'));
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
      expect(await snapshot(sid)).toEqual(before);
      expect(await refusedCount()).toBe(refusedBefore);
    }
    // The registered key still works: the refusal was about the key, not the name.
    const ok = await sshW(h, registeredOther, `${serial}:22`, Buffer.from('x'));
    expect(ok.code).toBe(0);
  });

  it('refuses a port the session does not allow', async () => {
    await expectChannelRefused(`${serial}:3306`, /port 3306 is not open/);
  });

  it('refuses a port the session allows but the appliance has not forwarded', async () => {
    await expectChannelRefused(`${serial}:80`, /has not forwarded port 80/);
  });

  it('refuses a serial with no live session on this relay', async () => {
    await expectChannelRefused('SN-NO-SUCH-TETHER:22', /not an appliance with a live tether/);
  });

  it('refuses any host that is not a serial, such as 127.0.0.1:6379, and connects nowhere', async () => {
    await expectChannelRefused('127.0.0.1:6379', /127\.0\.0\.1 is not an appliance/);
    const redisPort = new URL(inject('redisUrl')).port;
    await expectChannelRefused(`127.0.0.1:${redisPort}`, /not an appliance/);
    await expectChannelRefused(`localhost:${svc.port}`, /not an appliance/);
  });

  it('lets go of a tunnel another relay took over (without a fleet its channels are refused), with no LOST', async () => {
    const s2 = uniqueSerial('MOVED');
    const issued = await openTunnel(h, s2, { 22: svc.port });
    const a2 = issued.app;
    // The appliance reconnected through another relay before this one noticed the old socket die:
    // the event names that relay, and this one ends its stale connection.
    await h.sessions.apply(issued.session.id, 'connect', { actor: 'relay:elsewhere', relayId: 'elsewhere', now: Date.now() });
    await within(a2.closed, 2_000, 'the stale appliance connection to end');
    const before = await snapshot(issued.session.id);
    const r = await sshW(h, alice, `${s2}:22`, Buffer.from('x'));
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/not an appliance with a live tether on this relay/);
    expect(await snapshot(issued.session.id)).toEqual(before);
    // Its drop does not mark the session LOST either: the other relay holds it.
    await new Promise((r) => setTimeout(r, 200)); // a wrong LOST would be written within a few ms
    expect((await h.sessions.require(issued.session.id)).state).toBe('CONNECTED');
  });

  it('refuses an engineer asking for a shell or a command', async () => {
    const before = await snapshot(sid);
    const run = runSsh(h, alice, ['-T'], ['true']);
    run.child.stdin!.end();
    const r = await run.done;
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/administratively prohibited: the relay offers no shell/);
    expect(await snapshot(sid)).toEqual(before);
  });
});

describe('appliance refusals', () => {
  function openFails(fn: (cb: (err: Error | undefined) => void) => void): Promise<Error> {
    return new Promise((resolve, reject) => fn((err) => (err ? resolve(err) : reject(new Error('the relay allowed it')))));
  }

  it('refuses a shell, exec, a subsystem and direct-tcpip from the appliance, and changes nothing', async () => {
    const before = await snapshot(sid);
    const connectionsBefore = svc.connections();
    const c = app.client;
    const shell = await openFails((cb) => c.shell((err) => cb(err)));
    expect(shell.message).toMatch(/no shell, exec or subsystem/);
    const exec = await openFails((cb) => c.exec('id', (err) => cb(err)));
    expect(exec.message).toMatch(/no shell, exec or subsystem/);
    const sftp = await openFails((cb) => c.sftp((err) => cb(err)));
    expect(sftp.message).toMatch(/no shell, exec or subsystem/);
    const redisPort = Number(new URL(inject('redisUrl')).port);
    for (const port of [redisPort, 6379, svc.port]) {
      const err = await openFails((cb) => c.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (e) => cb(e)));
      expect(err.message).toMatch(/may not open connections through the relay/);
    }
    expect(svc.connections()).toBe(connectionsBefore); // nothing was dialled on the appliance's behalf
    expect(await snapshot(sid)).toEqual(before);
    expect(app.isClosed()).toBe(false);
  });

  it('refuses a forward of a port outside the session list', async () => {
    const before = await snapshot(sid);
    for (const port of [3306, 8080, 0]) {
      const err = await openFails((cb) => app.client.forwardIn('localhost', port, (e) => cb(e)));
      expect(err.message).toMatch(/Unable to bind/);
    }
    expect(await snapshot(sid)).toEqual(before);
    // The tunnel still serves what it was granted.
    const input = randomBytes(1000);
    const ok = await sshW(h, alice, `${serial}:22`, input);
    expect(ok.stdout.equals(Buffer.concat([Buffer.from('SERVICE\n'), input]))).toBe(true);
  });
});

describe('appliance login refusals', () => {
  async function loginFails(opts: { serial: string; seed: Buffer; username?: string }): Promise<Error> {
    try {
      const a = await connectAppliance(h, opts);
      a.end();
    } catch (err) {
      return err as Error;
    }
    throw new Error('login was accepted');
  }

  it('refuses a wrong tunnel key and a key presented for another serial', async () => {
    const s = uniqueSerial('AUTH');
    const issued = await issue(h, s, { ports: [22] });
    const before = await snapshot(issued.session.id);
    const wrongKey = await loginFails({ serial: s, seed: generateSeed() });
    expect(wrongKey.message).toMatch(/authentication methods failed/);
    const otherSerial = await loginFails({ serial: s, seed: issued.seed, username: `${s}-OTHER` });
    expect(otherSerial.message).toMatch(/authentication methods failed/);
    expect(await snapshot(issued.session.id)).toEqual(before);
    expect((await h.sessions.require(issued.session.id)).state).toBe('ISSUED');
  });

  it('refuses the key of a closed session forever', async () => {
    const s = uniqueSerial('CLOSED');
    const issued = await issue(h, s, { ports: [22] });
    await h.sessions.close(issued.session.id, 'revoked', 'test-operator', Date.now());
    const before = await snapshot(issued.session.id);
    const err = await loginFails({ serial: s, seed: issued.seed });
    expect(err.message).toMatch(/authentication methods failed/);
    expect(await snapshot(issued.session.id)).toEqual(before);
    expect((await h.sessions.require(issued.session.id)).reason).toBe('revoked');
  });
});
