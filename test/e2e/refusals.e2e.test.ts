// Bad input gets a one-line reason and changes nothing: keys the agent must refuse, keys the
// operator may not issue, and engineer requests the relay must refuse; the system keeps serving.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../shared/key/key-codec.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey, type SigningKey } from '../../shared/key/key-files.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { makeEngineerIdentity, runSsh, writeSshConfig } from '../helpers/engineer-ssh.js';
import { eventually } from '../helpers/processes.js';
import { useEchoService, useTetherSystem } from '../helpers/system-fixtures.js';
import { simulatedAppliance, type SimulatedAppliance } from '../helpers/tether-system.js';

const system = useTetherSystem();
const echo = useEchoService();

function mint(serial: string, opts: { signingKey?: SigningKey; ageMs?: number; ttlMs?: number; ports?: number[] } = {}) {
  const hostKey = loadOrCreateRelayHostKey(system.home);
  return issueKey(
    { serial, product: 'sma', ttlMs: opts.ttlMs ?? 3_600_000, ports: opts.ports, actor: 'test' },
    {
      sessions: system.sessions,
      signingKey: opts.signingKey ?? loadOrCreateSigningKey(system.home),
      relay: { host: '127.0.0.1', port: system.relayPort, fingerprint: hostKey.fingerprint },
      now: () => Date.now() - (opts.ageMs ?? 0),
    },
  );
}

async function expectRefusedWithoutChange(box: SimulatedAppliance, key: string, sid: string, reason: RegExp) {
  const r = await box.ktether(['enable', '--key', key]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(reason);
  expect(existsSync(join(box.home, 'tunnel_key'))).toBe(false);
  const accounts = join(box.home, 'accounts.json');
  if (existsSync(accounts)) expect(JSON.parse(readFileSync(accounts, 'utf8'))).not.toHaveProperty('kace_support');
  expect((await system.sessions.get(sid))?.state).toBe('ISSUED');
}

describe('the agent refuses bad keys with a reason and changes nothing', () => {
  let box: SimulatedAppliance;
  beforeAll(async () => {
    box = await simulatedAppliance(system, { serial: 'K1000-REF001', forwards: { 443: echo.port } });
  });
  afterAll(() => box.close());

  it('a key with one character changed', async () => {
    const { key, session } = await mint('K1000-REF001');
    const i = Math.floor(key.length / 2);
    const tampered = key.slice(0, i) + (key[i] === 'x' ? 'y' : 'x') + key.slice(i + 1);
    await expectRefusedWithoutChange(box, tampered, session.id, /malformed|signature|signer/);
  });

  it('a key for another serial', async () => {
    const { key, session } = await mint('K1000-OTHER1');
    await expectRefusedWithoutChange(box, key, session.id, /serial/);
  });

  it('an expired key', async () => {
    const { key, session } = await mint('K1000-REF001', { ageMs: 2 * 3_600_000, ttlMs: 3_600_000 });
    await expectRefusedWithoutChange(box, key, session.id, /expired/);
  });

  it('a key signed by an unknown signer', async () => {
    const pair = generateKeyPairSync('ed25519');
    const foreign: SigningKey = { kid: keyIdOf(pair.publicKey), privateKey: pair.privateKey, publicKey: pair.publicKey, publicPem: '' };
    const { key, session } = await mint('K1000-REF001', { signingKey: foreign });
    await expectRefusedWithoutChange(box, key, session.id, /unknown signer/);
  });

  it('after all refusals a good key still works', async () => {
    const { key } = await mint('K1000-REF001');
    const r = await box.ktether(['enable', '--key', key]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('the operator CLI refuses what it may not issue', () => {
  it('a TTL over 12 weeks: a usage error (exit 2), one prefixed line, no session stored', async () => {
    const before = await system.redis.zcard(system.sessions.keys.sessions);
    const r = await system.tether(['key', 'issue', '--serial', 'K1000-REF002', '--product', 'sma', '--ttl', '13w']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tether: /);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/12-week/);
    expect(await system.redis.zcard(system.sessions.keys.sessions)).toBe(before);
  });

  it('usage errors exit with code 2', async () => {
    const r = await system.tether(['key', 'issue', '--serial', 'K1000-REF002', '--product', 'xyz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sma or sda/);
  });
});

describe('the relay refuses engineers by default', () => {
  const serial = 'K1000-REF003';
  let box: SimulatedAppliance;
  let sid: string;
  beforeAll(async () => {
    const { key, session } = await mint(serial, { ports: [22, 443] });
    sid = session.id;
    box = await simulatedAppliance(system, { serial, forwards: { 443: echo.port } });
    const r = await box.ktether(['enable', '--key', key]);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  afterAll(() => box.close());

  async function refused(target: string, reason: RegExp) {
    const before = (await system.audit.list()).length;
    const r = await runSsh(system.engineer.sshConfig, ['-W', target, 'tether-relay'], 'x', { logLevel: 'INFO' });
    expect(r.code).not.toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(reason);
    // The relay answers the refusal first and writes the audit entry right after.
    const added = await eventually(async () => {
      const entries = (await system.audit.list()).slice(before);
      return entries.length > 0 ? entries : undefined;
    });
    expect(added.map((e) => e.type)).toEqual(['engineer.channel.refused']);
    expect(added[0]?.fields.engineer).toBe('alice');
    expect((await system.sessions.get(sid))?.state).toBe('CONNECTED');
  }

  it('a port the session does not allow', () => refused(`${serial}:3306`, /open failed: .*port 3306/));
  it('a serial with no live session', () => refused('K1000-NOSUCH:22', /open failed/));
  it('a host that is not a serial, such as Redis on the relay', () => refused('127.0.0.1:6379', /open failed/));

  it('a port whose service is down on the appliance, with the appliance\'s own reason', async () => {
    const serial2 = 'K1000-REF004';
    const { freePort } = await import('../helpers/redis-server.js');
    const closed = await freePort(); // nothing listens there
    const { key } = await mint(serial2, { ports: [80, 443] });
    const box2 = await simulatedAppliance(system, { serial: serial2, forwards: { 80: closed, 443: echo.port } });
    try {
      const r0 = await box2.ktether(['enable', '--key', key]);
      expect(r0.code, r0.stderr).toBe(0);
      const r = await runSsh(system.engineer.sshConfig, ['-W', `${serial2}:80`, 'tether-relay'], 'x', { logLevel: 'INFO' });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`connection refused on the appliance's 127.0.0.1:${closed}`);
    } finally {
      await box2.close();
    }
  });

  it('an engineer key nobody registered, and the relay keeps serving', async () => {
    const mallory = makeEngineerIdentity('mallory');
    const block = await system.tether(['ssh-config', '--engineer', 'alice', '--identity', mallory.keyFile]);
    const config = writeSshConfig(mallory.dir, block.stdout);
    const r = await runSsh(config, ['-W', `${serial}:443`, 'tether-relay'], 'x');
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied/);
    const ok = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'still serving');
    expect(ok.stdout.toString()).toBe('still serving');
  });
});
