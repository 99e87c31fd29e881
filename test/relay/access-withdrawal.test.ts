// Withdrawing an engineer's access ends what they already have open: removing the engineer (or the
// one key they used) closes their relay connections and channels within a second, audited; and a
// relay whose Redis is gone answers a login within 5 s with "service unavailable, try again".
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { openTunnel, useRelay } from './relay-fixture.js';
import { addEngineer, auditOf, runSsh, sshW, startHarness, uniqueSerial, waitFor, within } from './relay-harness.js';

const { h, services: { svc } } = useRelay({ services: { svc: 'WEB\n' } });

async function connectedSerial(): Promise<string> {
  return (await openTunnel(h, uniqueSerial('WD'), { 443: svc.port })).serial;
}

/** One request through a local `ssh -L` port: the greeting and the echo, or null if it failed. */
function throughForward(port: number, text: string): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('error', () => resolve(null));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.endsWith(text)) sock.end();
    });
    sock.on('close', () => resolve(got || null));
    sock.once('connect', () => sock.write(text));
  });
}

describe('withdrawing access', () => {
  it('removing an engineer closes their open ssh -L forward within a second, and new channels fail', async () => {
    const serial = await connectedSerial();
    const bob = await addEngineer(h, 'bob');
    const local = await freePort();
    const forward = runSsh(h, bob, ['-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${local}:${serial}:443`]);
    expect(await waitFor(() => throughForward(local, 'hello'), 'the forward to carry data')).toBe('WEB\nhello');

    const t0 = Date.now();
    expect(await h.engineers.remove('bob', 'test-operator', Date.now())).toBe(true);
    const r = await within(forward.done, 1000, 'the engineer connection closed');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.code).not.toBe(0);
    expect(await throughForward(local, 'again')).toBeNull();
    const gone = await waitFor(async () => (await auditOf(h, 'engineer.disconnected', { engineer: 'bob' }))[0], 'disconnect audited');
    expect(gone.fields).toMatchObject({ reason: 'engineer removed', actor: 'relay:test-relay' });
    expect(await auditOf(h, 'engineer.removed', { engineer: 'bob', actor: 'test-operator' })).toHaveLength(1);
    // And a fresh login is refused outright.
    const again = await sshW(h, bob, `${serial}:443`, Buffer.from('x'));
    expect(again.code).toBe(255);
  });

  it('removing one key ends only the connections made with it', async () => {
    const serial = await connectedSerial();
    const k1 = await addEngineer(h, 'carol');
    const k2 = await addEngineer(h, 'carol');
    const one = runSsh(h, k1, ['-W', `${serial}:443`]);
    const two = runSsh(h, k2, ['-W', `${serial}:443`]);
    one.child.stdin!.write('1');
    two.child.stdin!.write('2');
    await waitFor(() => one.stdout().toString() === 'WEB\n1' && two.stdout().toString() === 'WEB\n2', 'both channels up');
    const fp = parseEngineerKey(readFileSync(`${k1.keyFile}.pub`, 'utf8')).fingerprint;
    expect(await h.engineers.removeKey('carol', fp, 'test-operator', Date.now())).toBe(true);
    await within(one.done, 1000, 'the first key\'s connection closed');
    two.child.stdin!.write('+');
    await waitFor(() => two.stdout().toString() === 'WEB\n2+', 'the other key\'s channel still carries data');
    two.child.stdin!.end();
    expect((await two.done).code).toBe(0);
  });
});

describe('a relay without Redis', () => {
  it('answers an engineer login within 5 s with "service unavailable, try again", and serves again once Redis is back', async () => {
    const redis = await startRedisServer();
    const own = await startHarness(redis.url);
    try {
      const dave = await addEngineer(own, 'dave');
      await redis.shutdown();
      const t0 = Date.now();
      const r = await within(
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn('ssh', ['-F', '/dev/null', '-o', `UserKnownHostsFile=${dave.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', dave.keyFile, '-p', String(own.port), '-N', 'dave@127.0.0.1'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: own.dir } });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.once('close', (code) => resolve({ code, stderr }));
        }),
        7_000,
        'the login answered',
      );
      expect(Date.now() - t0).toBeLessThan(6_500);
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('tether relay: service unavailable, try again');
      await redis.restart();
      await waitFor(async () => (await own.redis.ping().catch(() => null)) === 'PONG', 'redis back', 10_000);
    } finally {
      await own.close();
      await redis.stop();
    }
  }, 30_000);
});
