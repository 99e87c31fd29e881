// End to end, as a newcomer would do it: the server process (relay), the operator CLI, a
// simulated appliance running `ktether`, and the stock OpenSSH client as the engineer.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSsh } from '../helpers/engineer-ssh.js';
import { eventually } from '../helpers/processes.js';
import { freePort } from '../helpers/redis-server.js';
import { useApplianceSshd, useEchoService, useTetherSystem } from '../helpers/system-fixtures.js';
import { simulatedAppliance, type SimulatedAppliance } from '../helpers/tether-system.js';

const system = useTetherSystem();
const sshd = useApplianceSshd();
const web = useEchoService();

async function issue(serial: string, extra: string[] = []): Promise<string> {
  const r = await system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '2h', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

async function appliance(serial: string): Promise<SimulatedAppliance> {
  return simulatedAppliance(system, { serial, forwards: { 22: sshd.port, 443: web.port } });
}

function sessionIdOf(key: string): string {
  const payload = JSON.parse(Buffer.from(key.split('.')[1]!, 'base64url').toString());
  return payload.sid as string;
}

/** A key issued for `serial` and enabled on a fresh simulated appliance. */
async function enabledAppliance(serial: string): Promise<{ key: string; box: SimulatedAppliance; sid: string }> {
  const key = await issue(serial);
  const box = await appliance(serial);
  expect((await box.ktether(['enable', '--key', key])).code).toBe(0);
  return { key, box, sid: sessionIdOf(key) };
}

describe('the tether, end to end', () => {
  it('lets an engineer reach ports 22 and 443 of an enabled appliance with stock OpenSSH, byte for byte', async () => {
    const serial = 'K1000-E2E001';
    const key = await issue(serial);
    const box = await appliance(serial);
    const enabled = await box.ktether(['enable', '--key', key]);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toMatch(/^\[\w{3}, \w{3} \d{1,2} \d{4} \d\d:\d\d:\d\d \S+\] \[ktether\] Starting\.$/m);
    expect(enabled.stdout).toMatch(/\[ktether\] Starting ssh\.$/m);
    expect(enabled.stdout).toMatch(/\[tether\]/);
    expect(JSON.parse(readFileSync(join(box.home, 'accounts.json'), 'utf8'))).toHaveProperty('kace_support');

    // Port 22 through `ssh -J`: the engineer logs in to the appliance's own sshd.
    const viaJump = await runSsh(system.engineer.sshConfig, ['-J', 'tether-relay', 'kace_support@' + serial, 'hello']);
    expect(viaJump.stderr).toBe('');
    expect(viaJump.stdout.toString()).toBe('appliance says: hello\n');

    // Port 443 through `ssh -W`: 1 MiB of random bytes come back unchanged (lower-case serial too).
    const payload = randomBytes(1024 * 1024);
    const viaW = await runSsh(system.engineer.sshConfig, ['-W', `${serial.toLowerCase()}:443`, 'tether-relay'], payload);
    expect(viaW.code).toBe(0);
    expect(viaW.stdout.equals(payload)).toBe(true);

    // The same through `ssh -L`, the way a browser would reach the web UI. The local port is one no
    // other test of this run is handed (a random one could be another test's server, which would take the bytes and never answer).
    const localPort = await freePort();
    const forward = spawn('ssh', ['-F', system.engineer.sshConfig, '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-N', '-L', `${localPort}:${serial}:443`, 'tether-relay']);
    try {
      const echoed = await eventually(async () => {
        const { connect } = await import('node:net');
        return new Promise<Buffer | false>((resolve) => {
          const sock = connect(localPort, '127.0.0.1');
          const chunks: Buffer[] = [];
          // A try that gets nothing back (the forward not up yet, or closed) is tried again.
          const giveUp = setTimeout(() => (sock.destroy(), resolve(false)), 2_000);
          sock.on('close', () => (clearTimeout(giveUp), resolve(false)));
          sock.on('error', () => resolve(false));
          sock.on('data', (d) => {
            chunks.push(d);
            if (Buffer.concat(chunks).length >= 4096) {
              clearTimeout(giveUp);
              sock.end();
              resolve(Buffer.concat(chunks));
            }
          });
          sock.write(payload.subarray(0, 4096));
        });
      });
      expect(echoed.equals(payload.subarray(0, 4096))).toBe(true);
    } finally {
      forward.kill();
    }

    const entries = await system.audit.list();
    const opened = entries.filter((e) => e.type === 'engineer.channel.opened' && e.fields.serial === serial);
    expect(opened.map((e) => e.fields.port).sort()).toEqual(expect.arrayContaining(['22', '443']));
    expect(opened.every((e) => e.fields.engineer === 'alice')).toBe(true);
    const closed = await eventually(async () =>
      (await system.audit.list()).find((e) => e.type === 'engineer.channel.closed' && e.fields.port === '443' && Number(e.fields.bytesToAppliance) === payload.length),
    );
    expect(Number(closed.fields.bytesFromAppliance)).toBe(payload.length);
    await box.close();
  });

  it('disable closes the open engineer channel within a second, ends the session and the key is then refused as used', async () => {
    const serial = 'K1000-E2E002';
    const { key, box, sid } = await enabledAppliance(serial);

    const engineer = spawn('ssh', ['-F', system.engineer.sshConfig, '-o', 'BatchMode=yes', '-W', `${serial}:443`, 'tether-relay'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const echoed = new Promise<void>((resolve) => engineer.stdout.once('data', () => resolve()));
    engineer.stdin.write('ping');
    await echoed;
    const exited = new Promise<number>((resolve) => engineer.once('exit', () => resolve(Date.now())));

    const disabled = await box.ktether(['disable']);
    expect(disabled.code).toBe(0);
    const disabledAt = Date.now();
    const exitAt = await exited;
    expect(exitAt - disabledAt).toBeLessThan(1000);

    const s = await system.sessions.get(sid);
    expect(s).toMatchObject({ state: 'CLOSED', reason: 'customer_disabled' });
    expect(existsSync(join(box.home, 'tunnel_key'))).toBe(false);
    expect(JSON.parse(readFileSync(join(box.home, 'accounts.json'), 'utf8'))).not.toHaveProperty('kace_support');

    const again = await box.ktether(['enable', '--key', key]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already used/);
    expect((await system.sessions.get(sid))?.state).toBe('CLOSED');
    await box.close();
  });

  it('reset re-establishes the tunnel with the same key and session', async () => {
    const serial = 'K1000-E2E003';
    const { box, sid } = await enabledAppliance(serial);
    const reset = await box.ktether(['reset']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/\[ktether\] Starting ssh\./);
    const reconnects = await eventually(async () =>
      (await system.audit.list()).filter((e) => e.type === 'session.reconnected' && e.fields.sid === sid).length,
    );
    expect(reconnects).toBeGreaterThanOrEqual(1);
    expect((await system.sessions.get(sid))?.state).toBe('CONNECTED');
    const r = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'after reset');
    expect(r.stdout.toString()).toBe('after reset');
    await box.close();
  });

  it('accepts a key pasted with spaces and line breaks inside', async () => {
    const serial = 'K1000-E2E004';
    const key = await issue(serial);
    const wrapped = `  ${key.match(/.{1,60}/g)!.join('\n  ')} \n`;
    const box = await appliance(serial);
    const enabled = await box.ktether(['enable', '--key', wrapped]);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    await box.close();
  });

  it('recovers from a relay killed with SIGKILL: the agent reconnects and nothing in Redis is lost', async () => {
    const serial = 'K1000-E2E005';
    const { box, sid } = await enabledAppliance(serial);
    const auditBefore = await system.audit.list();

    await system.server.stop('SIGKILL');
    await system.startServer();

    await eventually(async () => (await system.audit.list()).some((e) => e.type === 'session.reconnected' && e.fields.sid === sid), 20_000);
    expect((await system.sessions.get(sid))?.state).toBe('CONNECTED');
    const auditAfter = await system.audit.list();
    expect(auditAfter.slice(0, auditBefore.length).map((e) => e.id)).toEqual(auditBefore.map((e) => e.id));
    const r = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'still here');
    expect(r.stdout.toString()).toBe('still here');
    await box.close();
  });
});
