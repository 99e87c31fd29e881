// The fleet's configuration and keys (issue 10): TETHER_RELAY_ENDPOINTS parsed and written into
// every key, in order, beside `relay` for agents that predate it; Sentinel settings checked together.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { isAppError } from '../../shared/errors.js';
import { decodeKey, encodeKey, keyIdOf } from '../../shared/key/key-codec.js';
import { tetherKeyPayloadSchema } from '../../shared/key/tether-key.schema.js';
import { issueKey, relaysFor } from '../../shared/session/issue-key.js';
import type { SessionStore } from '../../shared/store/session.store.js';
import { keyPayload } from './key-payload.js';

const base = { TETHER_HOME: '/tmp/unused' };

function problem(env: Record<string, string>): string {
  try {
    loadServerConfig({ ...base, ...env });
  } catch (err) {
    if (isAppError(err, 'config_invalid')) return err.message;
    throw err;
  }
  return '';
}

describe('fleet configuration', () => {
  it('reads TETHER_RELAY_ENDPOINTS in order, IPv6 literals included', () => {
    const c = loadServerConfig({ ...base, TETHER_RELAY_ENDPOINTS: 'relay1.example:22, relay2.example:2222,[2001:db8::7]:22' });
    expect(c.relay.endpoints).toEqual([
      { host: 'relay1.example', port: 22 },
      { host: 'relay2.example', port: 2222 },
      { host: '2001:db8::7', port: 22 },
    ]);
    expect(loadServerConfig(base).relay.endpoints).toBeUndefined();
  });

  it('names the variable and the bad entry', () => {
    expect(problem({ TETHER_RELAY_ENDPOINTS: 'relay1:22,relay2' })).toMatch(/TETHER_RELAY_ENDPOINTS: "relay2" is not host:port/);
    expect(problem({ TETHER_RELAY_ENDPOINTS: 'relay1:70000' })).toMatch(/TETHER_RELAY_ENDPOINTS/);
    expect(problem({ REDIS_SENTINELS: 's1:26379' })).toMatch(/REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/);
    // A heartbeat grace the relays' heartbeat flush cannot keep up with.
    expect(problem({ TETHER_HEARTBEAT_FLUSH_MS: '60000' })).toMatch(/TETHER_LOST_GRACE_MS: must be more than twice TETHER_HEARTBEAT_FLUSH_MS \(60000 ms\)/);
    expect(problem({ TETHER_HEARTBEAT_FLUSH_MS: '20000', TETHER_LOST_GRACE_MS: '45000' })).toBe('');
    expect(problem({ REDIS_SENTINEL_NAME: 'tether' })).toMatch(/REDIS_SENTINELS: required/);
  });

  it('waits for one replica by default with Sentinel, for none without', () => {
    expect(loadServerConfig({ ...base, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'tether' }).redisWait).toEqual({ replicas: 1, timeoutMs: 500 });
    expect(loadServerConfig(base).redisWait.replicas).toBe(0);
    expect(loadServerConfig({ ...base, TETHER_REDIS_WAIT_REPLICAS: '2', TETHER_REDIS_WAIT_MS: '200' }).redisWait).toEqual({ replicas: 2, timeoutMs: 200 });
  });
});

describe('keys that name the fleet', () => {
  const signing = generateKeyPairSync('ed25519');
  const signingKey = { kid: keyIdOf(signing.publicKey), privateKey: signing.privateKey, publicKey: signing.publicKey, publicPem: '' };
  // Only what issueKey touches: a session store that accepts the new session.
  const sessions = {
    create: async () => undefined,
    require: async (id: string) => ({ id }),
  } as unknown as SessionStore;

  it('carries every relay with the fleet fingerprint, the first one also as `relay`', async () => {
    const fleet = [
      { host: 'lb.example', port: 22 },
      { host: 'relay2.example', port: 22 },
    ];
    const { key } = await issueKey(
      { serial: 'K1000-FLEET1', product: 'sma', ttlMs: 3_600_000, actor: 'test' },
      { sessions, signingKey, relay: { host: 'lb.example', port: 22, fingerprint: 'SHA256:fleet', fleet }, now: () => Date.now() },
    );
    const { payload } = decodeKey(key);
    expect(payload.relay).toEqual({ host: 'lb.example', port: 22, fp: 'SHA256:fleet' });
    expect(payload.relays).toEqual([
      { host: 'lb.example', port: 22, fp: 'SHA256:fleet' },
      { host: 'relay2.example', port: 22, fp: 'SHA256:fleet' },
    ]);
    const { key: single } = await issueKey(
      { serial: 'K1000-FLEET2', product: 'sma', ttlMs: 3_600_000, actor: 'test' },
      { sessions, signingKey, relay: { host: 'relay.example', port: 22, fingerprint: 'SHA256:one' }, now: () => Date.now() },
    );
    expect(decodeKey(single).payload.relays).toBeUndefined();
  });

  it('TETHER_RELAY_ORDER=serial: each key starts at the relay its serial picks, the same for an appliance every time, the fleet spread', () => {
    expect(loadServerConfig({ ...base }).relay.order).toBe('ordered');
    expect(loadServerConfig({ ...base, TETHER_RELAY_ORDER: 'serial' }).relay.order).toBe('serial');
    expect(problem({ TETHER_RELAY_ORDER: 'random' })).toContain('TETHER_RELAY_ORDER: must be ordered or serial');
    const fleet = [1, 2, 3].map((n) => ({ host: `relay${n}.example`, port: 22 }));
    const k = { host: 'relay1.example', port: 22, fingerprint: 'SHA256:fleet', fleet, order: 'serial' as const };
    const firsts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const { relay, relays } = relaysFor(k, `K1000-SPREAD${i}`);
      // Still the whole fleet, in its ring order, with `relay` the first for older agents.
      expect(relays).toHaveLength(3);
      expect(relay).toEqual(relays![0]);
      const at = fleet.findIndex((f) => f.host === relay.host);
      expect(relays!.map((r) => r.host)).toEqual([0, 1, 2].map((j) => fleet[(at + j) % 3]!.host));
      firsts.set(relay.host, (firsts.get(relay.host) ?? 0) + 1);
    }
    // 300 serials over 3 relays: each gets a share (a hash, not a counter; 60 is far below the expected 100).
    for (const f of fleet) expect(firsts.get(f.host) ?? 0).toBeGreaterThan(60);
    expect(relaysFor(k, 'k1000-spread7')).toEqual(relaysFor(k, 'K1000-SPREAD7'));
    expect(relaysFor({ ...k, order: 'ordered' }, 'K1000-SPREAD7').relay.host).toBe('relay1.example');
  });

  it('keeps `v: 1` keys without the list valid, and an older reader ignores the list', () => {
    const iat = Math.floor(Date.now() / 1000);
    const old = keyPayload(signingKey.kid, iat, { ports: [22], pw: { mode: 'escrow' } });
    expect(decodeKey(encodeKey(old, signing.privateKey)).payload).toEqual(old);
    // A reader without `relays` in its schema (zod objects drop unknown fields) still finds `relay`.
    const olderSchema = tetherKeyPayloadSchema.omit({ relays: true });
    const withFleet = { ...old, relays: [{ host: 'relay2.example', port: 22, fp: 'SHA256:abc' }] };
    expect(olderSchema.parse(withFleet).relay).toEqual(old.relay);
  });
});
