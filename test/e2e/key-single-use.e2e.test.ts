// A tether key is single-use on the server, end to end with real agents: the first appliance to
// log in with a key binds its own key pair; any other machine holding the same key (a leaked mail)
// is refused by the relay with "key already used", audited, and the live tunnel never moves.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { runSsh } from '../helpers/engineer-ssh.js';
import { simulatedAppliance, startTetherSystem, type TetherSystem } from '../helpers/tether-system.js';

let system: TetherSystem;
const services: TcpService[] = [];

beforeAll(async () => {
  system = await startTetherSystem(inject('redisUrl'));
}, 60_000);

afterAll(async () => {
  for (const s of services) await s.close();
  await system?.close();
});

async function issue(serial: string): Promise<{ key: string; sid: string }> {
  const r = await system.tether(['key', 'issue', '--serial', serial, '--product', 'sda', '--ttl', '2h']);
  expect(r.code, r.stderr).toBe(0);
  const key = r.stdout.trim();
  return { key, sid: JSON.parse(Buffer.from(key.split('.')[1]!, 'base64url').toString()).sid as string };
}

/** An appliance whose port 443 greets with `name`, so an engineer can tell which machine answered. */
async function machine(serial: string, name: string) {
  const web = await startEchoService(`${name}\n`);
  services.push(web);
  return simulatedAppliance(system, { serial, product: 'sda', version: '6.0', forwards: { 443: web.port } });
}

async function auditCount(type: string, sid: string): Promise<number> {
  return (await system.audit.list()).filter((e) => e.type === type && e.fields.sid === sid).length;
}

describe('a key is single-use on the server', () => {
  it('a second machine with the same key is refused with "key already used"; engineers always reach the first', async () => {
    const serial = 'SDA-SINGLE-01';
    const { key, sid } = await issue(serial);
    const a = await machine(serial, 'machine-A');
    const b = await machine(serial, 'machine-B');

    const first = await a.ktether(['enable', '--key', key]);
    expect(first.code, first.stderr).toBe(0);
    const second = await b.ktether(['enable', '--key', key]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe('ktether: refused by relay: key already used\n');
    expect(await auditCount('key.reuse_refused', sid)).toBe(1);

    for (let i = 0; i < 10; i++) {
      const probe = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], `probe-${i}`);
      expect(probe.code, probe.stderr).toBe(0);
      expect(probe.stdout.toString()).toBe(`machine-A\nprobe-${i}`);
    }
    expect(await auditCount('session.activated', sid)).toBe(1);
    expect(await auditCount('session.reconnected', sid)).toBe(0);
    expect((await system.sessions.require(sid)).state).toBe('CONNECTED');
  });

  it('of 20 agents racing one key exactly one connects, and it stays connected for 30 s with no replacement', async () => {
    const serial = 'SDA-RACE-01';
    const { key, sid } = await issue(serial);
    const boxes = await Promise.all(Array.from({ length: 20 }, (_, i) => machine(serial, `racer-${i}`)));
    const results = await Promise.all(boxes.map((box) => box.ktether(['enable', '--key', key])));
    const winners = results.flatMap((r, i) => (r.code === 0 ? [i] : []));
    expect(winners).toHaveLength(1);
    const losers = results.filter((r) => r.code !== 0);
    expect(losers).toHaveLength(19);
    for (const r of losers) expect(r.stderr).toBe('ktether: refused by relay: key already used\n');
    const winner = winners[0]!;

    await new Promise((r) => setTimeout(r, 30_000));
    const probe = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'still-there');
    expect(probe.stdout.toString()).toBe(`racer-${winner}\nstill-there`);
    expect(await auditCount('session.activated', sid)).toBe(1);
    expect(await auditCount('session.reconnected', sid)).toBe(0);
    expect(await auditCount('session.lost', sid)).toBe(0);
    expect(await auditCount('key.reuse_refused', sid)).toBe(19);
    const status = JSON.parse((await boxes[winner]!.ktether(['status', '--json'])).stdout);
    expect(status).toMatchObject({ state: 'connected', daemon: 'running', connections: 1 });
  }, 90_000);
});
