// The operator CLI's rough edges, as a new user meets them: one exit-code rule (usage 2, refusal 1),
// one `tether:` prefix (the parser's errors too), --version, --json on revoke and extend, audit
// --follow, unknown sessions and engineers refused, session ids as `--session ID`, and the
// per-session grants an operator manages; a CLI whose TETHER_HOME holds no server keys refuses
// instead of minting keys of its own.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dist, runNode } from '../helpers/processes.js';
import { startTetherSystem, type TetherSystem } from '../helpers/tether-system.js';

let system: TetherSystem;

beforeAll(async () => {
  system = await startTetherSystem(inject('redisUrl'), { TETHER_ENGINEER_POLICY: 'assigned' });
}, 60_000);

afterAll(async () => {
  await system?.close();
});

async function issued(serial: string): Promise<string> {
  const r = await system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '2h', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

describe('tether, the operator CLI', () => {
  it('prints its version', async () => {
    const r = await system.tether(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tether \d+\.\d+\.\d+\n$/);
  });

  it('usage errors exit 2 with the tether: prefix, the parser\'s included', async () => {
    for (const args of [['sessions', '--bogus'], ['key', 'issue', '--serial', 'SN1', '--product', 'sma', '--ttl', '13w'], ['engineer', 'add', 'zed', '--pubkey', '/nonexistent.pub'], ['revoke']]) {
      const r = await system.tether(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^tether: /);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('refusals exit 1: an unknown session for audit, an unknown engineer for ssh-config', async () => {
    const audit = await system.tether(['audit', '--session', 'nosuch']);
    expect(audit.code).toBe(1);
    expect(audit.stderr).toBe('tether: no session nosuch\n');
    const cfg = await system.tether(['ssh-config', '--engineer', 'nobody']);
    expect(cfg.code).toBe(1);
    expect(cfg.stderr).toMatch(/^tether: no engineer named nobody/);
    expect(cfg.stdout).toBe('');
  });

  it('revoke and extend answer --json with the session', async () => {
    const id = await issued('K1000-CLI001');
    const ext = await system.tether(['extend', '--session', id, '--ttl', '3h', '--json']);
    expect(ext.code, ext.stderr).toBe(0);
    expect(JSON.parse(ext.stdout)).toMatchObject({ id, state: 'ISSUED' });
    const rev = await system.tether(['revoke', '--session', id, '--json']);
    expect(rev.code, rev.stderr).toBe(0);
    expect(JSON.parse(rev.stdout)).toMatchObject({ id, state: 'CLOSED', reason: 'revoked' });
  });

  it('audit --follow prints entries as they are written, with times in ISO 8601', async () => {
    const child = spawn(process.execPath, [dist('tether'), 'audit', '--follow'], { env: { ...process.env, ...system.env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      const id = await issued('K1000-CLI002');
      await system.tether(['extend', '--session', id, '--ttl', '4h']);
      const deadline = Date.now() + 5_000;
      while (!out.includes(`session.extended\tsid=${id}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const line = out.split('\n').find((l) => l.includes(`session.extended\tsid=${id}`));
      expect(line).toBeDefined();
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t/);
      expect(line).toMatch(/expiresAt=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('grants: an operator lets an engineer reach one session, sees it, and withdraws it; ids also as --session', async () => {
    const id = await issued('K1000-CLI003');
    const g = await system.tether(['session', 'grant', '--session', id, '--engineer', 'alice']);
    expect(g.code, g.stderr).toBe(0);
    const list = await system.tether(['session', 'grants', id, '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({ session: id, policy: 'assigned', grants: [{ engineer: 'alice' }] });
    const unknown = await system.tether(['session', 'grant', id, '--engineer', 'ghost']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('tether: no engineer named ghost\n');
    const r = await system.tether(['session', 'revoke-grant', id, '--engineer', 'alice']);
    expect(r.code, r.stderr).toBe(0);
    const again = await system.tether(['session', 'revoke-grant', id, '--engineer', 'alice']);
    expect(again.code).toBe(1);
    const audit = (await system.audit.list()).filter((e) => e.fields.sid === id).map((e) => e.type);
    expect(audit).toEqual(expect.arrayContaining(['session.granted', 'session.grant_revoked']));
  });

  it('key issue --grant names who may reach the new session, and refuses an unknown engineer without issuing', async () => {
    const r = await system.tether(['key', 'issue', '--serial', 'K1000-CLI004', '--product', 'sma', '--grant', 'alice', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const id = (JSON.parse(r.stdout) as { id: string }).id;
    expect(JSON.parse((await system.tether(['session', 'grants', '--session', id, '--json'])).stdout)).toMatchObject({ grants: [{ engineer: 'alice' }] });
    const before = await system.redis.zcard(system.sessions.keys.sessions);
    const bad = await system.tether(['key', 'issue', '--serial', 'K1000-CLI005', '--product', 'sma', '--grant', 'ghost']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('tether: --grant ghost: no engineer named ghost\n');
    expect(await system.redis.zcard(system.sessions.keys.sessions)).toBe(before);
    const creds = await system.tether(['session', 'credentials', '--serial', 'K1000-NOSUCH', '--engineer', 'alice']);
    expect(creds.code).toBe(1);
    expect(creds.stderr).toBe('tether: no live session for serial K1000-NOSUCH\n');
  });

  it('engineer keys can carry an expiry and help desk identities map to engineers', async () => {
    const add = await system.tether(['engineer', 'add', 'alice', '--pubkey', system.engineer.pubFile, '--expires', '90d']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/until \d{4}-\d\d-\d\dT/);
    const map = await system.tether(['engineer', 'map', 'alice', '--help-desk-id', 'zendesk:Alice@Vendor.example']);
    expect(map.code, map.stderr).toBe(0);
    const list = JSON.parse((await system.tether(['engineer', 'list', '--json'])).stdout) as { name: string; helpDeskIds: string[]; keys: { expiresAt?: string }[] }[];
    const alice = list.find((e) => e.name === 'alice')!;
    expect(alice.helpDeskIds).toEqual(['zendesk:alice@vendor.example']);
    expect(alice.keys[0]!.expiresAt).toMatch(/^\d{4}-/);
  });

  it('without the server keys under TETHER_HOME, key issue, credentials and ssh-config exit 1 naming the file, write no files and leave the live session', async () => {
    const id = await issued('K1000-CLI006');
    const before = await system.redis.zcard(system.sessions.keys.sessions);
    const auditBefore = (await system.audit.list()).length;
    const empty = mkdtempSync(join(tmpdir(), 'tether-nokeys-'));
    const elsewhere = (args: string[]) => runNode('tether', args, { ...system.env, TETHER_HOME: empty });
    try {
      const key = await elsewhere(['key', 'issue', '--serial', 'K1000-CLI006', '--product', 'sma', '--json']);
      expect(key.code).toBe(1);
      expect(key.stdout).toBe('');
      expect(key.stderr).toBe(`tether: no signing.key in ${join(empty, 'keys')}: keys are made only by the server (scripts/up, serve); set TETHER_HOME to its data dir (TETHER_HOME is ${empty})\n`);
      const creds = await elsewhere(['session', 'credentials', id, '--engineer', 'alice']);
      expect(creds.code).toBe(1);
      expect(creds.stderr).toMatch(/^tether: no signing\.key in .*TETHER_HOME is /);
      const cfg = await elsewhere(['ssh-config', '--engineer', 'alice']);
      expect(cfg.code).toBe(1);
      expect(cfg.stdout).toBe('');
      expect(cfg.stderr).toMatch(/^tether: no relay_host_key\.pub in .*TETHER_HOME is /);
      expect(readdirSync(empty)).toEqual([]);
      expect((await system.sessions.findLiveBySerial('K1000-CLI006'))?.id).toBe(id);
      expect(await system.redis.zcard(system.sessions.keys.sessions)).toBe(before);
      expect((await system.audit.list()).length).toBe(auditBefore);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
