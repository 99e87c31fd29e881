// A relay per core (TETHER_RELAY_PROCESSES=2): serve forks two relay processes that share the relay
// port; each is a member of the fleet, so an engineer landing on either reaches the tunnel (directly
// or over the peer link); a relay process that dies is restarted and the agent comes back; SIGTERM
// to serve drains and stops them all. Real processes, real Redis, stock OpenSSH as the engineer.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RELAY_NODE_FLAGS } from '../../relay/node-flags.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { runSsh } from '../helpers/engineer-ssh.js';
import { eventually } from '../helpers/processes.js';
import { simulatedAppliance, startTetherSystem, type TetherSystem } from '../helpers/tether-system.js';

let system: TetherSystem;
let web: TcpService;
let fleet: RelayFleetStore;

beforeAll(async () => {
  system = await startTetherSystem(inject('redisUrl'), { TETHER_RELAY_PROCESSES: '2' });
  fleet = new RelayFleetStore(system.redis, system.env.TETHER_REDIS_PREFIX!);
  web = await startEchoService('');
}, 60_000);

afterAll(async () => {
  await web?.close();
  await system?.close();
});

const pidOf = (relayId: string) => Number(/-(\d+)-[0-9a-f]{4}$/.exec(relayId)?.[1]);

describe('TETHER_RELAY_PROCESSES=2', () => {
  it('two relay processes share the port; engineers reach the tunnel through either, some over the peer link', async () => {
    expect(system.server.output()).toMatch(/relay: 2 processes share 127\.0\.0\.1:\d+/);
    expect(system.server.output()).toMatch(/ready: relay ×2/);
    const relays = await fleet.list();
    expect(relays).toHaveLength(2);
    expect(new Set(relays.map((r) => pidOf(r.id))).size).toBe(2);
    // Each relay process runs with the relay's V8 flags (relay/node-flags.ts), which serve was not given.
    for (const r of relays) expect(readFileSync(`/proc/${pidOf(r.id)}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([...RELAY_NODE_FLAGS]));

    const serial = 'K1000-CORES1';
    const issued = await system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '1h']);
    expect(issued.code, issued.stderr).toBe(0);
    const box = await simulatedAppliance(system, { serial, forwards: { 443: web.port } });
    const enabled = await box.ktether(['enable', '--key', issued.stdout.trim()]);
    expect(enabled.code, enabled.stderr).toBe(0);

    for (let i = 0; i < 10; i++) {
      const r = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], `probe-${i}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe(`probe-${i}`);
    }
    // The primary hands connections to the relays in turn: some engineers landed where the tunnel is, some crossed.
    const opened = (await system.audit.list()).filter((e) => e.type === 'engineer.channel.opened' && e.fields.serial === serial);
    expect(opened).toHaveLength(10);
    expect(opened.some((e) => e.fields.via)).toBe(true);
    expect(opened.some((e) => !e.fields.via)).toBe(true);
  });

  it('a relay process killed with SIGKILL is restarted, and the appliance is reachable again', async () => {
    const serial = 'K1000-CORES1';
    const sid = (await system.sessions.findLiveBySerial(serial))!.id;
    const holder = (await system.sessions.require(sid)).relayId!;
    process.kill(pidOf(holder), 'SIGKILL');
    await system.server.waitFor(/relay process \d \(pid \d+\) exited \(SIGKILL\): restarting it/, 10_000);
    await eventually(async () => {
      const s = await system.sessions.require(sid);
      return s.state === 'CONNECTED' && s.relayId !== holder;
    }, 20_000);
    const r = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'after restart');
    expect(r.stdout.toString()).toBe('after restart');
    const live = await eventually(async () => {
      const relays = await fleet.list();
      return relays.length === 2 && relays.every((x) => x.id !== holder) ? relays : null;
    }, 30_000);
    expect(live).toHaveLength(2);
  });

  it('SIGTERM to serve stops every relay process', async () => {
    const pids = (await fleet.list()).map((r) => pidOf(r.id));
    await system.server.stop('SIGTERM');
    expect(system.server.output()).toMatch(/relay processes stopped \(2\)/);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
