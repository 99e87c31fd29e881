// Sealed keys end to end: a key sealed to one enrolled identity is refused by another home with
// the same serial (another identity, or none), changing nothing there, and works on its own
// appliance; an unenrolled appliance still gets a bearer key that works; re-enrolment needs a
// new token.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSsh } from '../helpers/engineer-ssh.js';
import { useEchoService } from '../helpers/system-fixtures.js';
import { simulatedAppliance, type SimulatedAppliance } from '../helpers/tether-system.js';
import { payloadOf } from './helpers/appliance-requests.js';
import { useOneClickSystem } from './helpers/oneclick-fixture.js';
import { enrol, enrolmentToken } from './helpers/oneclick-system.js';

const web = useEchoService();
const s = useOneClickSystem();

async function issue(serial: string): Promise<string> {
  const r = await s.system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--version', '10.2', '--ttl', '2h']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

/** Enables `key` on `box`, carries `text` through the relay to its port 443 and back, and disables again. */
async function expectEnabledAndReached(box: SimulatedAppliance, key: string, text: string): Promise<void> {
  const enabled = await box.ktether(['enable', '--key', key]);
  expect(enabled.stderr).toBe('');
  expect(enabled.code).toBe(0);
  const r = await runSsh(s.system.engineer.sshConfig, ['-W', `${box.serial}:443`, 'tether-relay'], text);
  expect(r.stdout.toString()).toBe(text);
  expect((await box.ktether(['disable'])).code).toBe(0);
}

describe('sealed keys', () => {
  it('a key sealed to one identity is refused in another home with the same serial, and works on its own appliance', async () => {
    const serial = 'K1000-SEAL01';
    const box = (extra = {}) => simulatedAppliance(s.system, { serial, version: '10.2', forwards: { 443: web.port }, ...extra });
    const imposter = await box();
    const owner = await box();
    const bare = await box();
    // The imposter enrols first; the owner enrols later with its own token and becomes the identity on record.
    await enrol(s, imposter);
    await enrol(s, owner);
    const key = await issue(serial);
    expect(payloadOf(key).sealed).toBeDefined();

    const stolen = await imposter.ktether(['enable', '--key', key]);
    expect(stolen.code).toBe(1);
    expect(stolen.stderr.trim()).toBe('ktether: key is sealed to another appliance identity: it cannot be used here');
    expect(stolen.stdout).toBe('');
    const noIdentity = await bare.ktether(['enable', '--key', key]);
    expect(noIdentity.code).toBe(1);
    expect(noIdentity.stderr).toMatch(/sealed to an enrolled appliance identity, and this appliance holds none/);
    for (const home of [imposter.home, bare.home]) {
      expect(existsSync(join(home, 'tunnel_key'))).toBe(false);
      expect(existsSync(join(home, 'state.json'))).toBe(false);
      expect(existsSync(join(home, 'accounts.json'))).toBe(false);
    }
    expect((await s.system.sessions.get(payloadOf(key).sid))?.state).toBe('ISSUED');

    await expectEnabledAndReached(owner, key, 'sealed and delivered');
  });

  it('an unenrolled appliance gets a bearer key, and it works', async () => {
    const serial = 'K1000-BEARER1';
    const key = await issue(serial);
    const payload = payloadOf(key);
    expect(payload.sealed).toBeUndefined();
    expect(typeof payload.cred).toBe('string');
    const box = await simulatedAppliance(s.system, { serial, forwards: { 443: web.port } });
    await expectEnabledAndReached(box, key, 'bearer works');
  });

  it('keeps the identity private (0600) and refuses a reused enrolment token without touching the identity on record', async () => {
    const serial = 'K1000-TOKEN01';
    const box = await simulatedAppliance(s.system, { serial, version: '10.2', forwards: { 443: web.port } });
    const token = await enrolmentToken(s, serial);
    const first = await box.ktether(['enroll', '--api', s.apiUrl, '--token', token]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const identityFile = join(box.home, 'identity.json');
    expect(readFileSync(identityFile, 'utf8')).toMatch(/PRIVATE KEY/);
    expect(statSync(identityFile).mode & 0o777).toBe(0o600);
    const before = readFileSync(identityFile, 'utf8');
    const recordBefore = await s.system.redis.hgetall(`${s.system.env.TETHER_REDIS_PREFIX}appliance:rec:${serial}`);

    const again = await box.ktether(['enroll', '--api', s.apiUrl, '--token', token]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/enrolment token is unknown or already used: ask support for a new one/);
    expect(readFileSync(identityFile, 'utf8')).toBe(before);
    expect(await s.system.redis.hgetall(`${s.system.env.TETHER_REDIS_PREFIX}appliance:rec:${serial}`)).toEqual(recordBefore);

    const listed = await s.system.tether(['appliance', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ serial, product: 'sma', version: '10.2' })]));
  });
});
