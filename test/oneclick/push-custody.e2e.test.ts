// Push and password custody end to end: a key issued for an enrolled appliance waits in its inbox
// and nothing connects until the customer runs `ktether enable --pending`; a key revoked while
// waiting leaves the inbox; the generated password is revealed only to registered engineers, every
// reveal audited, and after close there is nothing to reveal.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../appliance/accounts/file-accounts.js';
import { runSsh } from '../helpers/engineer-ssh.js';
import { eventually } from '../helpers/processes.js';
import { useEchoService } from '../helpers/system-fixtures.js';
import { payloadOf } from './helpers/appliance-requests.js';
import { useOneClickSystem } from './helpers/oneclick-fixture.js';
import { enrolledAppliance } from './helpers/oneclick-system.js';

const web = useEchoService();
const s = useOneClickSystem();

interface Status {
  state: string;
  daemon: string;
  enrolled: boolean;
  waitingKeys: { sid: string }[];
  inboxError: string | null;
}

async function issueJson(serial: string): Promise<{ id: string; key: string; sealed: boolean; pushed: boolean }> {
  const r = await s.system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--version', '10.2', '--ttl', '2h', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

const inboxKey = (serial: string) => `${s.system.env.TETHER_REDIS_PREFIX}appliance:inbox:${serial}`;
const custodyKey = (sid: string) => `${s.system.env.TETHER_REDIS_PREFIX}custody:pw:${sid}`;

describe('push', () => {
  it('a pushed key waits in the inbox, shows in status, and is used only by enable --pending', async () => {
    const serial = 'K1000-PUSH01';
    const box = await enrolledAppliance(s, { serial, product: 'sma', version: '10.2', forwards: { 443: web.port } });
    const issued = await issueJson(serial);
    expect(issued).toMatchObject({ sealed: true, pushed: true });

    const status = await box.ktether(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^waiting: +key for session ${issued.id}, expires .*: accept with ktether enable --pending$`, 'm'));
    // Offered, not taken: no daemon, no credential on disk, the session has not moved.
    expect((await s.system.sessions.get(issued.id))?.state).toBe('ISSUED');
    expect((await s.system.audit.list()).some((e) => e.fields.sid === issued.id && e.type === 'session.activated')).toBe(false);
    expect(existsSync(join(box.home, 'tunnel_key'))).toBe(false);
    expect((JSON.parse((await box.ktether(['status', '--json'])).stdout) as Status).daemon).toBe('stopped');

    const accepted = await box.ktether(['enable', '--pending']);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/\[ktether\] Accepting the key pushed at /);
    expect(accepted.stdout).toMatch(/^\[tether\]$/m);
    expect((await s.system.sessions.get(issued.id))?.state).toBe('CONNECTED');
    const r = await runSsh(s.system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'pushed and accepted');
    expect(r.stdout.toString()).toBe('pushed and accepted');
    // Used: it leaves the inbox (the audit bridge removes it on activation).
    await eventually(async () => (await s.system.redis.hexists(inboxKey(serial), issued.id)) === 0);
    const after = JSON.parse((await box.ktether(['status', '--json'])).stdout) as Status;
    expect(after).toMatchObject({ state: 'connected', enrolled: true, waitingKeys: [], inboxError: null });
    expect((await box.ktether(['disable'])).code).toBe(0);
  });

  it('a key revoked while waiting is gone from the inbox, and --pending then finds nothing', async () => {
    const serial = 'K1000-PUSH02';
    const box = await enrolledAppliance(s, { serial, product: 'sma', version: '10.2', forwards: { 443: web.port } });
    const issued = await issueJson(serial);
    const waiting = JSON.parse((await box.ktether(['status', '--json'])).stdout) as Status;
    expect(waiting.waitingKeys.map((k) => k.sid)).toEqual([issued.id]);

    const revoked = await s.system.tether(['revoke', '--session', issued.id]);
    expect(revoked.code).toBe(0);
    const status = JSON.parse((await box.ktether(['status', '--json'])).stdout) as Status;
    expect(status.waitingKeys).toEqual([]);
    await eventually(async () => (await s.system.redis.hexists(inboxKey(serial), issued.id)) === 0);

    const pending = await box.ktether(['enable', '--pending']);
    expect(pending.code).toBe(1);
    expect(pending.stderr).toMatch(/no key is waiting for this appliance/);
    expect(existsSync(join(box.home, 'tunnel_key'))).toBe(false);
  });
});

describe('support password custody', () => {
  it('reveals the generated password only to registered engineers, audits every reveal, and destroys it on close', async () => {
    const serial = 'K1000-CUST01';
    const box = await enrolledAppliance(s, { serial, product: 'sma', version: '10.2', forwards: { 443: web.port } });
    const issued = await issueJson(serial);
    expect(payloadOf(issued.key).pw).toBeUndefined(); // sealed, never in the clear
    // At rest in Redis it is ciphertext, not the password.
    const atRest = await s.system.redis.get(custodyKey(issued.id));
    expect(atRest).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const refused = await s.system.tether(['session', 'credentials', issued.id, '--engineer', 'mallory']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/engineer "mallory" is not registered/);
    expect(refused.stdout).toBe('');

    expect((await box.ktether(['enable', '--pending'])).code).toBe(0);
    const hash = (JSON.parse(readFileSync(join(box.home, 'accounts.json'), 'utf8')) as Record<string, { passwordHash: string }>).kace_support!.passwordHash;
    const first = await s.system.tether(['session', 'credentials', issued.id, '--engineer', 'alice']);
    const second = await s.system.tether(['session', 'credentials', issued.id, '--engineer', 'alice', '--json']);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const password = first.stdout.trim();
    expect(atRest).not.toContain(password);
    expect(verifyPassword(hash, password)).toBe(true);
    expect(JSON.parse(second.stdout)).toEqual({ session: issued.id, serial, user: 'kace_support', password });

    const audit = (await s.system.audit.list()).filter((e) => e.fields.sid === issued.id);
    expect(audit.filter((e) => e.type === 'credential.revealed').map((e) => e.fields.engineer)).toEqual(['alice', 'alice']);
    expect(audit.filter((e) => e.type === 'credential.reveal_refused').map((e) => e.fields.engineer)).toEqual(['mallory']);
    expect(JSON.stringify(audit)).not.toContain(password);

    expect((await box.ktether(['disable'])).code).toBe(0);
    await eventually(async () => (await s.system.redis.exists(custodyKey(issued.id))) === 0);
    const after = await s.system.tether(['session', 'credentials', issued.id, '--engineer', 'alice']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/closed: its support password was destroyed/);
    expect(after.stdout).toBe('');
  });
});
