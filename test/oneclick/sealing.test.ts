// Sealing and the wire rules around it: X25519 + HKDF + AES-GCM boxes open only for their
// identity and their key (jti); issueKey seals for enrolled serials and keeps the generated password
// in custody; version thresholds for one-click; the request signature's canonical form.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { acceptKey } from '../../appliance/key-acceptance.js';
import { isAppError } from '../../shared/errors.js';
import { loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import { generateIdentityKeys, openSecrets, rawPublicKey, sealContext, sealSecrets } from '../../shared/key/sealing.js';
import { compareVersions, signRequest, supportsOneClick, verifyRequestSignature } from '../../shared/protocol.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { RedisApplianceStore } from '../../shared/store/redis-appliance.store.js';
import { CredentialStore, credentialSecretFrom } from '../../shared/store/credential.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';
import { RELAY } from '../pipeline/helpers/relay-endpoint.js';

const secrets = { cred: Buffer.alloc(32, 7).toString('base64url'), pw: { mode: 'generated' as const, value: 'correct-horse-battery' } };

function refusedWith(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isAppError(thrown) ? thrown.code : thrown).toBe(code);
}

describe('sealed boxes', () => {
  const me = generateIdentityKeys();
  const ctx = sealContext('K1000-ABC', 'jti-0001');
  const box = sealSecrets(rawPublicKey(me.sealKey), secrets, ctx);

  it('open with the identity they were sealed to, and only with it', () => {
    expect(openSecrets(box, me.sealKey, ctx)).toEqual(secrets);
    refusedWith(() => openSecrets(box, generateIdentityKeys().sealKey, ctx), 'key_sealed_elsewhere');
  });

  it('are bound to their serial and key id, and refuse any changed byte', () => {
    refusedWith(() => openSecrets(box, me.sealKey, sealContext('K1000-ABC', 'jti-0002')), 'key_sealed_elsewhere');
    refusedWith(() => openSecrets(box, me.sealKey, sealContext('K1000-XYZ', 'jti-0001')), 'key_sealed_elsewhere');
    const ct = Buffer.from(box.ct, 'base64url');
    ct[0]! ^= 1;
    refusedWith(() => openSecrets({ ...box, ct: ct.toString('base64url') }, me.sealKey, ctx), 'key_sealed_elsewhere');
  });

  it('never carry the secrets in the clear, and differ every time', () => {
    expect(JSON.stringify(box)).not.toContain(secrets.pw.value);
    expect(sealSecrets(rawPublicKey(me.sealKey), secrets, ctx).ct).not.toBe(box.ct);
  });
});

describe('issueKey for enrolled and unenrolled serials', () => {
  const prefix = randomPrefix();
  let redis: Redis;
  let home: string;

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    home = mkdtempSync(join(tmpdir(), 'tether-seal-'));
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(home, { recursive: true, force: true });
  });

  it('seals credential and password to the enrolled identity, pushes the key, and keeps the password in custody', async () => {
    const signingKey = loadOrCreateSigningKey(home);
    const sessions = new RedisSessionStore(redis, prefix);
    const appliances = new RedisApplianceStore(redis, prefix);
    const credentials = new CredentialStore(redis, prefix, credentialSecretFrom(signingKey.privateKey));
    const id = generateIdentityKeys();
    const enrolled = { serial: 'K1000-SEALED', product: 'sma' as const, version: '10.2', enrolledAt: Date.now() };
    await appliances.enrol({ ...enrolled, signPub: rawPublicKey(id.signKey).toString('base64url'), sealPub: rawPublicKey(id.sealKey).toString('base64url') }, Date.now());
    const deps = { sessions, signingKey, relay: RELAY, now: () => Date.now(), appliances, credentials };

    const sealed = await issueKey({ serial: 'K1000-SEALED', product: 'sma', ttlMs: 3_600_000, actor: 'test' }, deps);
    expect(sealed).toMatchObject({ sealed: true, pushed: true });
    const signers = new Map([[signingKey.kid, signingKey.publicKey]]);
    const accepted = acceptKey(sealed.key, { signers, serial: 'K1000-SEALED', isUsed: () => false, sealKey: id.sealKey });
    expect(accepted.pw?.mode).toBe('generated');
    const password = accepted.pw?.mode === 'generated' ? accepted.pw.value : '';
    expect(await credentials.reveal(sealed.session.id)).toBe(password);
    expect((await appliances.inbox('K1000-SEALED', Date.now())).map((e) => e.sid)).toEqual([sealed.session.id]);
    refusedWith(() => acceptKey(sealed.key, { signers, serial: 'K1000-SEALED', isUsed: () => false, sealKey: generateIdentityKeys().sealKey }), 'key_sealed_elsewhere');
    refusedWith(() => acceptKey(sealed.key, { signers, serial: 'K1000-SEALED', isUsed: () => false }), 'key_sealed_elsewhere');

    // What current agents ask for in one-click: sealed still, but the appliance makes the password and
    // escrows it to the custody key; nothing is held in custody until it arrives over the tunnel.
    const escrow = await issueKey({ serial: 'K1000-SEALED', product: 'sma', ttlMs: 3_600_000, actor: 'test', passwordMode: 'escrow', push: false }, deps);
    expect(escrow).toMatchObject({ sealed: true, pushed: false });
    const escrowed = acceptKey(escrow.key, { signers, serial: 'K1000-SEALED', isUsed: () => false, sealKey: id.sealKey });
    expect(escrowed.pw).toEqual({ mode: 'escrow' });
    expect(escrowed.payload.custody).toMatch(/^[\w-]{43}$/);
    expect(await credentials.reveal(escrow.session.id)).toBeNull();

    const bearer = await issueKey({ serial: 'K1000-LEGACY', product: 'sma', ttlMs: 3_600_000, actor: 'test', passwordMode: 'customer' }, deps);
    expect(bearer).toMatchObject({ sealed: false, pushed: false });
    expect(acceptKey(bearer.key, { signers, serial: 'K1000-LEGACY', isUsed: () => false }).pw).toEqual({ mode: 'customer' });
    expect(await credentials.reveal(bearer.session.id)).toBeNull();
  });
});

describe('one-click versions', () => {
  it('start at SMA 10.2 and SDA 6.1, compared part by part', () => {
    expect(supportsOneClick('sma', '10.2')).toBe(true);
    expect(supportsOneClick('sma', '10.2.1234')).toBe(true);
    expect(supportsOneClick('sma', '10.10')).toBe(true);
    expect(supportsOneClick('sma', '11.0')).toBe(true);
    expect(supportsOneClick('sma', '10.1.999')).toBe(false);
    expect(supportsOneClick('sma', '9.9')).toBe(false);
    expect(supportsOneClick('sda', '6.1')).toBe(true);
    expect(supportsOneClick('sda', '6.0.5')).toBe(false);
    expect(compareVersions('10.2', '10.2.0')).toBe(0);
  });
});

describe('request signatures', () => {
  const { signKey } = generateIdentityKeys();
  const pub = rawPublicKey(signKey);
  const now = 1_800_000_000_000;
  const headers = signRequest(signKey, { method: 'POST', path: '/v1/appliances/SN/tether', body: '{"a":1}', now });
  const check = (over: Partial<{ method: string; path: string; body: string; now: number }>) =>
    verifyRequestSignature(pub, {
      method: over.method ?? 'POST',
      path: over.path ?? '/v1/appliances/SN/tether',
      body: Buffer.from(over.body ?? '{"a":1}'),
      headers,
      now: over.now ?? now,
    });

  it('cover method, path, body and time', () => {
    expect(check({}).ok).toBe(true);
    expect(check({ method: 'PUT' }).ok).toBe(false);
    expect(check({ path: '/v1/appliances/SN/inbox' }).ok).toBe(false);
    expect(check({ body: '{"a":2}' }).ok).toBe(false);
    expect(check({ now: now + 121_000 }).ok).toBe(false);
    expect(check({ now: now - 121_000 }).ok).toBe(false);
    expect(check({ now: now + 119_000 }).ok).toBe(true);
  });
});
