// The relay fleet end to end, every process real: three `serve --roles relay`, two `--roles workers`
// and two `--roles api` on one Redis; appliances running `ktether` with keys that name all three
// relays; the engineer's stock OpenSSH on whichever relay. A channel crosses relays; revoke on the
// second API ends it; kill -9 of a relay brings its agents back through another; SIGTERM drains a
// relay with a crossing channel open and no ticket hears of a LOST.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSsh } from '../helpers/engineer-ssh.js';
import { useFleetNeighbours } from '../helpers/fleet-neighbours.js';
import { startFleetSystem, type FleetSystem } from '../helpers/fleet-system.js';
import { eventually } from '../helpers/processes.js';
import { simulatedAppliance, type SimulatedAppliance } from '../helpers/tether-system.js';

const SECRET = 'fleet-webhook-secret-0123456789';
const ADMIN = 'fleet-admin-token-0123456789';
const { smtp, comments, sshd, web } = useFleetNeighbours(SECRET);
let fleet: FleetSystem;
const appliances = new Set<SimulatedAppliance>();
const engineers: ReturnType<typeof spawn>[] = [];

beforeAll(async () => {
  fleet = await startFleetSystem(inject('redisUrl'), {
    relays: 3,
    workers: 2,
    apis: 2,
    env: {
      SMTP_URL: smtp.url,
      TETHER_WEBHOOK_SECRET: SECRET,
      TETHER_ADMIN_TOKEN: ADMIN,
      TETHER_TICKET_COMMENT_URL: comments.url,
      TETHER_COMMENT_BURST: '0',
      TETHER_RELAY_DRAIN_MS: '8000',
    },
  });
}, 120_000);

afterAll(async () => {
  for (const e of engineers) e.kill('SIGKILL');
  for (const box of appliances) await box.close();
  await fleet?.close();
}, 60_000);

/** A key from the CLI (naming all three relays, in order), enabled on a fresh simulated appliance. */
async function enabledAppliance(serial: string, ticket: string): Promise<{ box: SimulatedAppliance; sid: string }> {
  const issued = await fleet.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '2h', '--ticket', `generic:${ticket}`, '--json']);
  expect(issued.stderr).toBe('');
  const { id, key } = JSON.parse(issued.stdout) as { id: string; key: string };
  const payload = JSON.parse(Buffer.from(key.split('.')[1]!, 'base64url').toString()) as { relays?: { port: number }[] };
  expect(payload.relays?.map((r) => r.port)).toEqual(fleet.relays.map((r) => r.port));
  const box = await simulatedAppliance({ home: fleet.home, appliances }, { serial, forwards: { 22: sshd.port, 443: web.port } });
  const enabled = await box.ktether(['enable', '--key', key]);
  expect(enabled.stderr).toBe('');
  expect(enabled.code).toBe(0);
  return { box, sid: id };
}

/** `ssh -W SERIAL:443` held open through the relay the config names; resolves once an echo came back. */
async function holdChannel(config: string, serial: string) {
  const child = spawn('ssh', ['-F', config, '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-W', `${serial}:443`, 'tether-relay'], { stdio: ['pipe', 'pipe', 'pipe'] });
  engineers.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(Date.now())));
  child.stdin.write('ping');
  await eventually(() => out.endsWith('ping'), 10_000);
  return { child, exited, output: () => out, send: (s: string) => child.stdin.write(s) };
}

const commentsOn = (ticket: string) => comments.comments.filter((c) => c.ticket.id === ticket).map((c) => c.body);

describe('relay fleet, end to end', () => {
  it('an engineer on relay B reaches :22 and :443 of an appliance on relay A with ssh -J; revoke on the second API closes the crossing channel', async () => {
    const serial = 'K1000-FLEET1';
    const { sid } = await enabledAppliance(serial, 'F-1');
    const s = await fleet.sessions.require(sid);
    expect(fleet.indexOf(s.relayId)).toBe(0);
    const viaB = await fleet.sshConfigFor(1);
    const jump = await runSsh(viaB, ['-J', 'tether-relay', `kace_support@${serial}`, 'hello']);
    expect(jump.stderr).toBe('');
    expect(jump.stdout.toString()).toBe('appliance says: hello\n');
    const w = await runSsh(viaB, ['-W', `${serial.toLowerCase()}:443`, 'tether-relay'], 'through B');
    expect(w.stdout.toString()).toBe('through B');
    // Audited once, by relay B, naming relay A as the holder.
    const closed = await eventually(async () => {
      const found = (await fleet.audit.list()).filter((e) => e.type === 'engineer.channel.closed' && e.fields.sid === sid && e.fields.port === '443');
      return found.length ? found : null;
    });
    expect(closed).toHaveLength(1);
    expect(closed[0]!.fields.via).toBe(fleet.relays[0]!.id);

    const held = await holdChannel(viaB, serial);
    const t0 = Date.now();
    const res = await fetch(`${fleet.apis[1]!.url}/v1/sessions/${sid}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    expect((await held.exited) - t0).toBeLessThan(1_000);
    expect((await fleet.sessions.require(sid)).state).toBe('CLOSED');
  });

  it('kill -9 of relay A: the agent is back CONNECTED through B or C within its backoff, the crash is a LOST, nothing CLOSED', async () => {
    const serial = 'K1000-FLEET2';
    const { box, sid } = await enabledAppliance(serial, 'F-2');
    expect(fleet.indexOf((await fleet.sessions.require(sid)).relayId)).toBe(0);
    fleet.relays[0]!.proc.child.kill('SIGKILL');
    const t0 = Date.now();
    const back = await eventually(async () => {
      const s = await fleet.sessions.require(sid);
      return s.state === 'CONNECTED' && fleet.indexOf(s.relayId) > 0 ? s : null;
    }, 10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const types = (await fleet.audit.list()).filter((e) => e.fields.sid === sid).map((e) => e.type);
    expect(types).not.toContain('session.closed');
    expect(types.slice(-2)).toEqual(['session.lost', 'session.reconnected']);
    // ktether status names the relay it is connected to now, not the key's first one.
    const status = JSON.parse((await box.ktether(['status', '--json'])).stdout) as { state: string; relay: string };
    expect(status.state).toBe('connected');
    expect(status.relay).toBe(`127.0.0.1:${fleet.relays[fleet.indexOf(back.relayId)]!.port}`);
    // Reachable again, from any relay left.
    const viaC = await fleet.sshConfigFor(2);
    expect((await runSsh(viaC, ['-W', `${serial}:443`, 'tether-relay'], 'after crash')).stdout.toString()).toBe('after crash');
    expect(fleet.indexOf(back.relayId)).toBeGreaterThan(0);
  });

  it('SIGTERM on relay B while an engineer channel crosses it: B drains, its appliances move to C, no LOST on any ticket', async () => {
    // With A gone, new appliances land on B (the next endpoint of their keys).
    const moving = await enabledAppliance('K1000-FLEET3', 'F-3');
    const busy = await enabledAppliance('K1000-FLEET4', 'F-4');
    for (const { sid } of [moving, busy]) expect(fleet.indexOf((await fleet.sessions.require(sid)).relayId)).toBe(1);
    // The engineer is on C; the channel crosses C → B to the busy appliance.
    const held = await holdChannel(await fleet.sshConfigFor(2), 'K1000-FLEET4');
    const relayB = fleet.relays[1]!;
    const exited = new Promise<number | null>((resolve) => relayB.proc.child.once('exit', (code) => resolve(code)));
    relayB.proc.child.kill('SIGTERM');
    await relayB.proc.waitFor(/relay draining/);
    // The idle appliance moves to C at once; the busy one waits for its engineer.
    await eventually(async () => fleet.indexOf((await fleet.sessions.require(moving.sid)).relayId) === 2, 10_000);
    held.send('-during-drain');
    await eventually(() => held.output().endsWith('-during-drain'), 5_000);
    held.child.stdin!.end();
    await held.exited;
    await eventually(async () => fleet.indexOf((await fleet.sessions.require(busy.sid)).relayId) === 2, 10_000);
    expect(await exited).toBe(0);
    expect(relayB.proc.output()).toMatch(/relay drained in \d+ ms: \d+ appliances sent on/);
    for (const { sid } of [moving, busy]) {
      const types = (await fleet.audit.list()).filter((e) => e.fields.sid === sid && e.type.startsWith('session.')).map((e) => e.type);
      expect(types).toEqual(['session.issued', 'session.activated', 'session.reconnected']);
    }
    // The ticket heard "connected" and nothing since (workers post within a second or two).
    await new Promise((r) => setTimeout(r, 2_000));
    for (const ticket of ['F-3', 'F-4']) {
      expect(commentsOn(ticket).some((b) => b.startsWith('Tether connected'))).toBe(true);
      expect(commentsOn(ticket).filter((b) => /lost|reconnected/i.test(b))).toEqual([]);
    }
  });
});
