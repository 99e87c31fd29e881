// The engineer directory against real Redis when two operators change one engineer at once: an
// add never brings back a key removed at the same moment, two adds keep both keys, and every change
// is audited (a removal also announced to relays) exactly once.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseEngineerKey, type EngineerKey } from '../../shared/store/engineer.store.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RedisEngineerDirectory } from '../../shared/store/redis-engineer.store.js';
import { ed25519Pair } from '../helpers/ed25519-pair.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';

const prefix = randomPrefix();
const ROUNDS = 40;
// Two operators: separate connections, so their commands interleave in Redis as they would.
let redisA: Redis;
let redisB: Redis;
let sub: Redis;
let dirA: RedisEngineerDirectory;
let dirB: RedisEngineerDirectory;
const key = (): EngineerKey => parseEngineerKey(ed25519Pair('op').public);
const fingerprintsOf = async (name: string) => new Set((await dirA.get(name))?.keys.map((k) => k.fingerprint));

beforeAll(() => {
  redisA = new Redis(inject('redisUrl'));
  redisB = new Redis(inject('redisUrl'));
  sub = new Redis(inject('redisUrl'));
  dirA = new RedisEngineerDirectory(redisA, prefix);
  dirB = new RedisEngineerDirectory(redisB, prefix);
});
afterAll(async () => {
  await deletePrefix(redisA, prefix);
  for (const r of [redisA, redisB, sub]) r.disconnect();
});

describe('redis engineer directory, concurrent changes', () => {
  it('two operators adding different keys to one engineer at once keep both keys, each audited once', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const name = `both${i}`;
      const [k1, k2] = [key(), key()];
      await Promise.all([dirA.addKey(name, k1, 'cli:a', 1_000), dirB.addKey(name, k2, 'cli:b', 2_000)]);
      expect(await fingerprintsOf(name), `round ${i}`).toEqual(new Set([k1.fingerprint, k2.fingerprint]));
    }
    const added = (await new RedisAuditLog(redisA, prefix).list()).filter((e) => e.type === 'engineer.added' && e.fields.engineer === 'both0');
    expect(added.map((e) => e.fields.actor).sort()).toEqual(['cli:a', 'cli:b']);
  });

  it('a key removed while another operator adds a key stays removed, and the added key stays', async () => {
    const heard: string[] = [];
    const channel = dirA.channel;
    await sub.subscribe(channel);
    sub.on('message', (_c: string, m: string) => heard.push(m));
    for (let i = 0; i < ROUNDS; i++) {
      const name = `race${i}`;
      const [k1, k2, k3] = [key(), key(), key()];
      await dirA.addKey(name, k1, 'cli:a', 1_000);
      await dirA.addKey(name, k2, 'cli:a', 1_000);
      // Operator B revokes k1 (compromised) while operator A adds k3.
      const [, removed] = await Promise.all([dirA.addKey(name, k3, 'cli:a', 2_000), dirB.removeKey(name, k1.fingerprint, 'cli:b', 2_000)]);
      expect(removed).toBe(true);
      expect(await fingerprintsOf(name), `round ${i}`).toEqual(new Set([k2.fingerprint, k3.fingerprint]));
    }
    // Every removal was audited and announced to relays once.
    const deadline = Date.now() + 2_000;
    while (heard.length < ROUNDS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(heard).toHaveLength(ROUNDS);
    expect(JSON.parse(heard[0]!)).toEqual({ engineer: 'race0', fingerprints: [expect.stringMatching(/^SHA256:/)] });
    const removals = (await new RedisAuditLog(redisA, prefix).list()).filter((e) => e.type === 'engineer.key_removed');
    expect(removals).toHaveLength(ROUNDS);
    expect(removals[0]!.fields).toEqual({ engineer: 'race0', fingerprint: JSON.parse(heard[0]!).fingerprints[0], actor: 'cli:b' });
  });

  it('keeps a key expiry and the first addedAt; removing the last key removes the engineer; unknown keys change nothing', async () => {
    const k = { ...key(), expiresAt: 1_767_225_600_123 };
    await dirA.addKey('solo', k, 'cli:a', 5_000);
    const again = await dirA.addKey('solo', { ...k, comment: 'renamed' }, 'cli:a', 9_000);
    expect(again).toEqual({ name: 'solo', addedAt: 5_000, keys: [{ ...k, comment: 'renamed' }] });
    expect((await new RedisAuditLog(redisA, prefix).list()).filter((e) => e.type === 'engineer.added' && e.fields.engineer === 'solo')[0]!.fields.expiresAt).toBe(new Date(k.expiresAt).toISOString());
    expect(await dirA.removeKey('solo', 'SHA256:nosuch', 'cli:a', 9_000)).toBe(false);
    expect(await dirA.removeKey('solo', k.fingerprint, 'cli:a', 9_000)).toBe(true);
    expect(await dirA.get('solo')).toBeNull();
    expect(await dirA.remove('solo', 'cli:a', 9_000)).toBe(false);
  });
});
