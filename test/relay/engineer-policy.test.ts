// Least privilege for engineers (TETHER_ENGINEER_POLICY=assigned, the default): a registered
// engineer reaches a session only when granted it or assigned its ticket; withdrawing the grant
// or reassigning the ticket away closes their open channels to it within a second; an expired
// engineer key is refused.
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { redisKeys } from '../../shared/store/redis-keys.js';
import { openTunnel, useRelay } from './relay-fixture.js';
import { addEngineer, auditOf, connectAppliance, issue, runSsh, sshW, uniqueSerial, waitFor, within, type SshRun } from './relay-harness.js';

const { h, services: { svc }, engineers: { erin } } = useRelay({ harness: { engineerPolicy: 'assigned' }, services: { svc: 'SVC\n' }, engineers: ['erin'] });

async function connected(ticket?: { system: string; id: string }) {
  const { serial, sid } = await openTunnel(h, uniqueSerial('POL'), { 22: svc.port });
  if (ticket) await h.redis.hset(h.sessions.keys.session(sid), 'ticket', `${ticket.system}:${ticket.id}`);
  return { serial, session: (await h.sessions.require(sid)) };
}

/** Erin's channel to the serial's port 22, once `first` has come back behind the service's greeting. */
async function erinChannel(serial: string, first: string, what: string): Promise<SshRun> {
  const open = runSsh(h, erin, ['-W', `${serial}:22`]);
  open.child.stdin!.write(first);
  await waitFor(() => open.stdout().toString() === `SVC\n${first}`, what);
  return open;
}

/** Half a second after a change that must not close it, the channel still carries `more` and ends cleanly. */
async function expectStillOpen(open: SshRun, sent: string, more: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 500));
  open.child.stdin!.write(more);
  await waitFor(() => open.stdout().toString() === `SVC\n${sent}${more}`, 'the channel still carries data');
  open.child.stdin!.end();
  expect((await open.done).code).toBe(0);
}

describe('engineer policy "assigned"', () => {
  it('refuses an engineer nobody granted, with the way to get access, and audits it', async () => {
    const { serial, session } = await connected();
    const r = await sshW(h, erin, `${serial}:22`, Buffer.from('x'));
    expect(r.code).toBe(255);
    expect(r.stderr).toContain(`engineer erin is not authorised for the tether of ${serial}`);
    expect(r.stderr).toContain(`tether session grant ${session.id} --engineer erin`);
    await waitFor(async () => (await auditOf(h, 'engineer.channel.refused', { engineer: 'erin' })).length > 0, 'refusal audited');
  });

  it('lets a granted engineer in; withdrawing the grant closes the open channel within a second', async () => {
    const { serial, session } = await connected();
    await h.access.grant(session, 'erin', 'test-operator', Date.now());
    expect(await auditOf(h, 'session.granted', { sid: session.id, engineer: 'erin', actor: 'test-operator' })).toHaveLength(1);
    const open = await erinChannel(serial, 'hi', 'the granted channel');
    const t0 = Date.now();
    expect(await h.access.revokeGrant(session, 'erin', 'test-operator', Date.now())).toBe(true);
    await within(open.done, 1_000, 'the channel closed');
    expect(Date.now() - t0).toBeLessThan(1_000);
    const again = await sshW(h, erin, `${serial}:22`, Buffer.from('x'));
    expect(again.code).toBe(255);
    expect(again.stderr).toContain('is not authorised');
    expect(await auditOf(h, 'session.grant_revoked', { sid: session.id, engineer: 'erin' })).toHaveLength(1);
  });

  it('lets in the engineer the ticket is assigned to, and no one else', async () => {
    const ticket = { system: 'zendesk', id: `T-${Date.now()}` };
    const { serial } = await connected(ticket);
    const frank = await addEngineer(h, 'frank');
    await h.access.mapIdentity('zendesk:frank@vendor.example', 'frank');
    expect(await h.access.engineerFor(['zendesk:nobody@vendor.example', 'zendesk:frank@vendor.example'])).toBe('frank');
    await h.access.setAssignee(ticket, 'frank', 'test-operator', Date.now());
    const ok = await sshW(h, frank, `${serial}:22`, Buffer.from('as assignee'));
    expect(ok.stdout.toString()).toBe('SVC\nas assignee');
    const no = await sshW(h, erin, `${serial}:22`, Buffer.from('x'));
    expect(no.code).toBe(255);
  });

  it('reassigning the ticket away from the engineer closes their open channel within a second; a granted one stays', async () => {
    const ticket = { system: 'github', id: `T3-${Date.now()}` };
    const { serial, session } = await connected(ticket);
    await h.access.setAssignee(ticket, 'erin', 'test-operator', Date.now());
    const open = await erinChannel(serial, 'a', "the assignee's channel");
    const t0 = Date.now();
    await h.access.setAssignee(ticket, null, 'help-desk', Date.now());
    await within(open.done, 1_000, 'the channel closed');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await sshW(h, erin, `${serial}:22`, Buffer.from('x'))).code).toBe(255);

    // With a grant as well, losing the assignment changes nothing for the open channel.
    await h.access.setAssignee(ticket, 'erin', 'test-operator', Date.now());
    await h.access.grant(session, 'erin', 'test-operator', Date.now());
    const kept = await erinChannel(serial, 'b', 'the granted channel');
    await h.access.setAssignee(ticket, null, 'help-desk', Date.now());
    await expectStillOpen(kept, 'b', 'c');
  });

  it('withdrawing a grant leaves the channels of an engineer who may still reach the session (the ticket assignee)', async () => {
    const ticket = { system: 'zendesk', id: `T2-${Date.now()}` };
    const { serial, session } = await connected(ticket);
    await h.access.setAssignee(ticket, 'erin', 'test-operator', Date.now());
    await h.access.grant(session, 'erin', 'test-operator', Date.now());
    const open = await erinChannel(serial, 'a', 'the channel');
    await h.access.revokeGrant(session, 'erin', 'test-operator', Date.now());
    await expectStillOpen(open, 'a', 'b');
  });

  it('withdrawing a grant while the channel is still opening refuses it when the appliance answers', async () => {
    const serial = uniqueSerial('POLOPEN');
    const issued = await issue(h, serial, { ports: [22] });
    const app = await connectAppliance(h, { serial, seed: issued.seed });
    let asked!: () => void;
    const opening = new Promise<void>((resolve) => (asked = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // An appliance slow to answer: the open waits on it while the grant is withdrawn.
    app.client.on('tcp connection', (_details, accept) => {
      asked();
      void released.then(() => {
        const ch = accept();
        ch.on('error', () => undefined);
        const sock = netConnect(svc.port, '127.0.0.1');
        sock.on('error', () => undefined);
        ch.pipe(sock);
        sock.pipe(ch);
      });
    });
    await new Promise<void>((resolve, reject) => app.client.forwardIn('localhost', 22, (err) => (err ? reject(err) : resolve())));
    await waitFor(async () => (await h.sessions.get(issued.session.id))?.state === 'CONNECTED', 'CONNECTED');
    const session = await h.sessions.require(issued.session.id);
    await h.access.grant(session, 'erin', 'test-operator', Date.now());
    const open = runSsh(h, erin, ['-W', `${serial}:22`]);
    try {
      await opening;
      await h.access.revokeGrant(session, 'erin', 'test-operator', Date.now());
      await new Promise((r) => setTimeout(r, 300)); // the withdrawal reaches the relay before the appliance answers
      release();
      const r = await within(open.done, 2_000, "the engineer's ssh ended");
      expect(r.code).toBe(255);
      expect(r.stderr).toContain(`access to the tether of ${serial} ended while the channel was opening`);
      expect(r.stdout.toString()).toBe('');
    } finally {
      open.child.kill();
      app.end();
    }
  });

  it('a grant withdrawn while the relay was not listening closes the channel once its subscriber is back', async () => {
    const { serial, session } = await connected();
    await h.access.grant(session, 'erin', 'test-operator', Date.now());
    const open = await erinChannel(serial, 'm', 'the granted channel');
    // Behind the relay's back: no announcement, as if it came while the relay's subscriber was away.
    await h.redis.hdel(redisKeys(h.prefix).grants(session.id), 'erin');
    h.subscriber.disconnect(true);
    await within(open.done, 3_000, 'the channel closed after the reconnect');
  });

  it('refuses an engineer key past its expiry at login', async () => {
    const { serial, session } = await connected();
    const gail = await addEngineer(h, 'gail', false);
    const key = parseEngineerKey(readFileSync(`${gail.keyFile}.pub`, 'utf8'));
    await h.engineers.addKey('gail', { ...key, expiresAt: Date.now() - 1_000 }, 'test', Date.now());
    await h.access.grant(session, 'gail', 'test-operator', Date.now());
    const r = await sshW(h, gail, `${serial}:22`, Buffer.from('x'));
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied/);
    await h.engineers.addKey('gail', { ...key, expiresAt: Date.now() + 60_000 }, 'test', Date.now());
    const ok = await sshW(h, gail, `${serial}:22`, Buffer.from('fresh'));
    expect(ok.stdout.toString()).toBe('SVC\nfresh');
  });
});
