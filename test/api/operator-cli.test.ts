// `tether operator add|list|remove` and `--as` through the compiled CLI (dist/, built by
// `npm run build`) against real Redis: the token is printed once and works in the operator API, only
// its hash is stored, and audit entries name the acting operator (or cli:<os user> by default);
// `tether audit` on a log longer than one read shows the newest entries and a new session's own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { redisKeys } from '../../shared/store/redis-keys.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { runNode } from '../helpers/processes.js';
import { startApiHarness, type ApiHarness } from './helpers/api-harness.js';

let h: ApiHarness;
let home: string;
let env: NodeJS.ProcessEnv;
const tether = (args: string[]) => runNode('tether', args, env);

beforeAll(async () => {
  h = await startApiHarness(inject('redisUrl'));
  home = mkdtempSync(join(tmpdir(), 'tether-cli-'));
  env = { TETHER_HOME: home, REDIS_URL: inject('redisUrl'), TETHER_REDIS_PREFIX: h.prefix, TETHER_LOG_LEVEL: 'silent' };
});

afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

const auditOf = async (type: string) => (await new RedisAuditLog(h.redis, h.prefix).list()).filter((e) => e.type === type).map((e) => e.fields);

describe('tether operator', () => {
  it('adds an operator and prints the token once (--json: name, role, token); the token works in the API', async () => {
    const r = await tether(['operator', 'add', 'alice', '--role', 'engineer', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const added = JSON.parse(r.stdout) as { name: string; role: string; token: string };
    expect(added).toEqual({ name: 'alice', role: 'engineer', token: expect.stringMatching(/^OT1\.[A-Za-z0-9_-]{43}$/) });
    expect((await h.call('GET', '/v1/me', { token: added.token })).json).toEqual({ operator: { name: 'alice', role: 'engineer' } });

    const plain = await tether(['operator', 'add', 'bob', '--role', 'viewer']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^OT1\.[A-Za-z0-9_-]{43}\n$/);
    // Only hashes are stored: no token text anywhere under the prefix.
    const dump = JSON.stringify(await Promise.all((await h.redis.keys(`${h.prefix}operator*`)).map(async (k) => [k, (await h.redis.type(k)) === 'hash' ? await h.redis.hgetall(k) : await h.redis.get(k)])));
    expect(dump).not.toContain(added.token);
    expect(dump).not.toContain(plain.stdout.trim());
    // Added by the OS user, as the audit says.
    expect(await auditOf('operator.added')).toEqual([
      { operator: 'alice', role: 'engineer', actor: `cli:${userInfo().username}` },
      { operator: 'bob', role: 'viewer', actor: `cli:${userInfo().username}` },
    ]);
  });

  it('refuses a bad role as a usage error (exit 2) and a taken name (exit 1), one line on stderr', async () => {
    const bad = await tether(['operator', 'add', 'carl', '--role', 'root']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('tether: invalid --role "root": use viewer, engineer, admin\n');
    const taken = await tether(['operator', 'add', 'alice', '--role', 'viewer']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^tether: operator alice already exists/);
    expect((await tether(['operator', 'add', 'admin', '--role', 'admin'])).code).toBe(2);
  });

  it('lists operators without their tokens', async () => {
    const json = await tether(['operator', 'list', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'alice', role: 'engineer', createdAt: expect.any(String) },
      { name: 'bob', role: 'viewer', createdAt: expect.any(String) },
    ]);
    const text = await tether(['operator', 'list']);
    expect(text.stdout.split('\n').slice(0, 3).map((l) => l.split('\t').slice(0, 2).join(' '))).toEqual(['NAME ROLE', 'alice engineer', 'bob viewer']);
  });

  it('acts --as a registered operator whose role allows it, names them in the audit, and refuses otherwise', async () => {
    const root = JSON.parse((await tether(['operator', 'add', 'root', '--role', 'admin', '--json'])).stdout) as { token: string };
    const asEngineer = await tether(['operator', 'remove', 'bob', '--as', 'alice']);
    expect(asEngineer.code).toBe(1);
    expect(asEngineer.stderr).toBe('tether: engineer may not manage operators: needs admin\n');
    const asNobody = await tether(['operator', 'remove', 'bob', '--as', 'ghost']);
    expect(asNobody.code).toBe(1);
    expect(asNobody.stderr).toMatch(/^tether: --as ghost: no operator named ghost/);
    expect((await h.operators.get('bob'))?.role).toBe('viewer');

    const removed = await tether(['operator', 'remove', 'bob', '--as', 'root']);
    expect(removed).toMatchObject({ code: 0, stdout: 'operator bob removed\n' });
    expect(await auditOf('operator.removed')).toEqual([{ operator: 'bob', role: 'viewer', actor: 'root' }]);
    expect((await tether(['operator', 'remove', 'bob', '--as', 'root'])).code).toBe(1);
    expect((await h.call('GET', '/v1/me', { token: root.token })).json.operator).toEqual({ name: 'root', role: 'admin' });
  });

  it('names the --as operator as actor of a revoke, and refuses a revoke --as an engineer without touching the session', async () => {
    const { session } = await h.issue('K1000-CLIAS1');
    const refused = await tether(['revoke', '--session', session.id, '--as', 'alice']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('tether: engineer may not revoke sessions: needs admin\n');
    const sessions = new RedisSessionStore(h.redis, h.prefix);
    expect((await sessions.require(session.id)).state).toBe('ISSUED');
    expect((await tether(['revoke', '--session', session.id, '--as', 'root'])).code).toBe(0);
    expect((await auditOf('session.closed')).filter((f) => f.sid === session.id).map((f) => f.actor)).toEqual(['root']);
  });
});

describe('tether audit on a long log', () => {
  it('with more than 10,000 entries shows a new session\'s entries and the newest 1,000 (or --limit), saying older ones exist', async () => {
    const pipe = h.redis.pipeline();
    for (let i = 0; i < 10_500; i++) pipe.xadd(redisKeys(h.prefix).audit, '*', 'type', 'engineer.mapped', 'engineer', `filler${i}`, 'actor', 'test', 'at', String(Date.now()));
    await pipe.exec();
    const { session } = await h.issue('K1000-LONGLOG');

    const mine = await tether(['audit', '--session', session.id, '--json']);
    expect(mine.code, mine.stderr).toBe(0);
    expect((JSON.parse(mine.stdout) as { type: string; sid: string }[]).map((e) => [e.type, e.sid])).toEqual([['session.issued', session.id]]);

    const newest = await tether(['audit', '--json']);
    expect(newest.code).toBe(0);
    expect(newest.stderr).toBe('tether: showing the newest 1000 entries (--limit for more)\n');
    const entries = JSON.parse(newest.stdout) as { type: string; sid?: string; engineer?: string }[];
    expect(entries).toHaveLength(1_000);
    expect(entries.at(-1)).toMatchObject({ type: 'session.issued', sid: session.id });
    expect(entries.at(-2)).toMatchObject({ engineer: 'filler10499' });

    const few = await tether(['audit', '--limit', '3']);
    expect(few.code).toBe(0);
    expect(few.stdout.trim().split('\n').map((l) => l.split('\t')[1])).toEqual(['engineer.mapped', 'engineer.mapped', 'session.issued']);
    const bad = await tether(['audit', '--limit', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('tether: invalid --limit "0": a whole number from 1 to 100000\n');
  });
});
