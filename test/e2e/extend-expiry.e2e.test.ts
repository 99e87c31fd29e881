// `tether extend` reaches the appliance: the relay holding the tunnel tells the agent the new expiry
// (`expiry@tether`), so `ktether status` shows it, the agent's own timer follows it, and the agent's
// log says so. End to end with the real server, relay, ktether daemon and the operator CLI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { simulatedAppliance, startTetherSystem, type SimulatedAppliance, type TetherSystem } from '../helpers/tether-system.js';

let system: TetherSystem;
let web: TcpService;

beforeAll(async () => {
  system = await startTetherSystem(inject('redisUrl'));
  web = await startEchoService('appliance\n');
}, 60_000);

afterAll(async () => {
  await web?.close();
  await system?.close();
});

async function statusExpiry(box: SimulatedAppliance): Promise<string | null> {
  const r = await box.ktether(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { expiresAt: string | null }).expiresAt;
}

async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('an extended session reaches the agent', () => {
  it('ktether status shows the new expiry after tether extend, and the agent log says so', async () => {
    const serial = 'SDA-EXTEND-01';
    const issued = await system.tether(['key', 'issue', '--serial', serial, '--product', 'sda', '--ttl', '2h', '--json']);
    expect(issued.code, issued.stderr).toBe(0);
    const { id, key, expiresAt: keyExpiry } = JSON.parse(issued.stdout) as { id: string; key: string; expiresAt: string };
    const box = await simulatedAppliance(system, { serial, product: 'sda', version: '6.0', forwards: { 443: web.port } });
    const enabled = await box.ktether(['enable', '--key', key]);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(await statusExpiry(box)).toBe(new Date(Date.parse(keyExpiry)).toISOString());

    const extended = await system.tether(['extend', '--session', id, '--ttl', '5h', '--json']);
    expect(extended.code, extended.stderr).toBe(0);
    const newExpiry = (JSON.parse(extended.stdout) as { expiresAt: string }).expiresAt;
    expect(Date.parse(newExpiry)).toBeGreaterThan(Date.parse(keyExpiry));

    await eventually(async () => (await statusExpiry(box)) === newExpiry, `ktether status to show ${newExpiry}`);
    const human = await box.ktether(['status']);
    expect(human.stdout).toMatch(new RegExp(`expires:\\s+${newExpiry.replace(/[.]/g, '\\.')}`));
    const log = readFileSync(join(box.home, 'ktether.log'), 'utf8');
    expect(log).toContain(`relay says the session now expires at ${newExpiry}`);
    expect((await system.sessions.require(id)).state).toBe('CONNECTED');
  });
});
