// An engineer's stock OpenSSH reaches an appliance's services through the relay, byte for byte,
// and every channel is audited with its byte counts.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { freePort } from '../helpers/redis-server.js';
import { openTunnel, useRelay } from './relay-fixture.js';
import { auditOf, issue, runSsh, sshW, uniqueSerial, waitFor, type Appliance } from './relay-harness.js';

const { h, services: { sshd, https }, engineers: { alice } } = useRelay({ services: { sshd: 'SSH-SERVICE\n', https: 'HTTPS-SERVICE\n' }, engineers: ['alice'] });
let app: Appliance;
let serial: string;
let sid: string;

beforeAll(async () => {
  ({ app, serial, sid } = await openTunnel(h, uniqueSerial('PATH'), { 22: sshd.port, 443: https.port }));
});

afterAll(() => app?.end());

describe('engineer path through the relay', () => {
  it('activates the session on the first tunnel login and records this relay', async () => {
    const s = await h.sessions.require(sid);
    expect(s.state).toBe('CONNECTED');
    expect(s.relayId).toBe('test-relay');
    expect(await auditOf(h, 'session.activated', { sid })).toHaveLength(1);
    expect(h.relay.tunnelCount).toBe(1);
  });

  it('carries data byte for byte through ssh -W SERIAL:22 to the appliance port 22 service', async () => {
    const input = randomBytes(512 * 1024);
    const r = await sshW(h, alice, `${serial}:22`, input);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.equals(Buffer.concat([Buffer.from('SSH-SERVICE\n'), input]))).toBe(true);
  });

  it('reaches port 443 with a lower-cased serial (as ssh -J sends it)', async () => {
    const input = randomBytes(64 * 1024);
    const r = await sshW(h, alice, `${serial.toLowerCase()}:443`, input);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(Buffer.concat([Buffer.from('HTTPS-SERVICE\n'), input]))).toBe(true);
  });

  it('audits each channel opened and closed with who, which appliance, port and byte counts', async () => {
    const before = (await auditOf(h, 'engineer.channel.closed', { sid })).length;
    const input = randomBytes(10_000);
    const r = await sshW(h, alice, `${serial}:22`, input);
    expect(r.code).toBe(0);
    const closed = await waitFor(async () => {
      const all = await auditOf(h, 'engineer.channel.closed', { sid });
      return all.length > before ? all[all.length - 1] : undefined;
    }, 'channel closed audit');
    expect(closed.fields).toMatchObject({
      engineer: 'alice',
      serial,
      port: '22',
      bytesToAppliance: String(input.length),
      bytesFromAppliance: String(input.length + 'SSH-SERVICE\n'.length),
    });
    expect(Number(closed.fields.durationMs)).toBeGreaterThanOrEqual(0);
    const opened = await auditOf(h, 'engineer.channel.opened', { sid, engineer: 'alice' });
    expect(opened.map((e) => e.fields.port)).toEqual(expect.arrayContaining(['22', '443']));
    // Every channel opened so far in this file has been closed again, and audited as such.
    expect((await auditOf(h, 'engineer.channel.closed', { sid })).length).toBe(opened.length);
  });

  it('serves ssh -N -L LOCAL:SERIAL:443 (case kept) to a local client, byte for byte', async () => {
    const local = await freePort();
    const run = runSsh(h, alice, ['-N', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${local}:${serial}:443`]);
    try {
      const input = randomBytes(200_000);
      const received = await waitFor(
        () =>
          new Promise<Buffer | null>((resolve) => {
            const chunks: Buffer[] = [];
            const sock = connect(local, '127.0.0.1');
            sock.on('error', () => resolve(null));
            sock.on('data', (d: Buffer) => chunks.push(d));
            sock.on('end', () => resolve(Buffer.concat(chunks)));
            sock.on('connect', () => sock.end(input));
          }),
        'the -L listener',
      );
      expect(received.equals(Buffer.concat([Buffer.from('HTTPS-SERVICE\n'), input]))).toBe(true);
    } finally {
      run.child.kill('SIGTERM');
      await run.done;
    }
  });

  it('works with stock OpenSSH as the appliance: activation with the key credential then its own key, reconnect with its own key alone', async () => {
    const s2 = uniqueSerial('OPENSSH');
    const issued = await issue(h, s2, { ports: [22] });
    const credFile = join(h.dir, `activation_${s2}`);
    const ownFile = join(h.dir, `tunnel_${s2}`);
    writeFileSync(credFile, openSshPrivateKeyFromSeed(issued.seed), { mode: 0o600 });
    writeFileSync(ownFile, openSshPrivateKeyFromSeed(generateSeed()), { mode: 0o600 });
    // OpenSSH offers its identities in order and goes on to the next after a partial success.
    const applianceSsh = (keys: string[]) =>
      spawn(
        'ssh',
        [
          '-F', '/dev/null', '-N',
          '-o', `UserKnownHostsFile=${alice.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
          '-o', 'IdentitiesOnly=yes', '-o', 'ExitOnForwardFailure=yes',
          ...keys.flatMap((k) => ['-i', k]), '-p', String(h.port),
          '-R', `22:127.0.0.1:${sshd.port}`,
          `${s2}@127.0.0.1`,
        ],
        { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: h.dir } },
      );
    const carries = async () => {
      const input = randomBytes(50_000);
      const r = await waitFor(async () => {
        const attempt = await sshW(h, alice, `${s2}:22`, input);
        return attempt.code === 0 ? attempt : undefined;
      }, 'the OpenSSH tunnel to carry data');
      expect(r.stdout.equals(Buffer.concat([Buffer.from('SSH-SERVICE\n'), input]))).toBe(true);
    };
    const first = applianceSsh([credFile, ownFile]);
    try {
      await carries();
      expect((await h.sessions.require(issued.session.id)).state).toBe('CONNECTED');
    } finally {
      first.kill('SIGTERM');
    }
    await waitFor(async () => (await h.sessions.get(issued.session.id))?.state === 'LOST', 'LOST after the first ssh ended');
    const again = applianceSsh([ownFile]);
    try {
      await carries();
      expect(await auditOf(h, 'session.reconnected', { sid: issued.session.id })).toHaveLength(1);
    } finally {
      again.kill('SIGTERM');
    }
  });

  it('relays several engineer channels to one appliance at the same time', async () => {
    const inputs = Array.from({ length: 4 }, () => randomBytes(100_000));
    const results = await Promise.all(inputs.map((input, i) => sshW(h, alice, `${serial}:${i % 2 ? 443 : 22}`, input)));
    results.forEach((r, i) => {
      const banner = i % 2 ? 'HTTPS-SERVICE\n' : 'SSH-SERVICE\n';
      expect(r.code).toBe(0);
      expect(r.stdout.equals(Buffer.concat([Buffer.from(banner), inputs[i]!]))).toBe(true);
    });
    await waitFor(() => app.client && h.relay.tunnelCount === 1, 'tunnel still up');
  });
});
