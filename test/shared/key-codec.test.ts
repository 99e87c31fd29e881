import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors.js';
import { decodeKey, encodeKey, keyIdOf, verifyKey } from '../../shared/key/key-codec.js';
import type { TetherKeyPayload } from '../../shared/key/tether-key.schema.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { keyPayload } from './key-payload.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signers = trustedSignersFromPem(publicKey.export({ format: 'pem', type: 'spki' }).toString());
const now = new Date('2026-11-29T12:00:00Z');
const iat = Math.floor(now.getTime() / 1000);

const payload = (over: Partial<TetherKeyPayload> = {}) => keyPayload(keyIdOf(publicKey), iat, over);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isAppError(err)) return err.code;
    throw err;
  }
  return 'accepted';
}

describe('tether key codec', () => {
  it('round-trips a signed key and returns its payload', () => {
    const key = encodeKey(payload(), privateKey);
    expect(key.startsWith('KT1.')).toBe(true);
    expect(verifyKey(key, { signers, serial: 'K1000-5F3A9C', now })).toEqual(payload());
  });

  it('ignores spaces and line breaks anywhere, as mail clients add them', () => {
    const key = encodeKey(payload(), privateKey);
    const wrapped = ` ${key.slice(0, 10)} \r\n${key.slice(10, 50)}\n\t${key.slice(50)}\n`;
    expect(verifyKey(wrapped, { signers, serial: 'k1000-5f3a9c', now }).sid).toBe('sid-0123456789');
  });

  it('refuses a key with any single character changed', () => {
    const key = encodeKey(payload(), privateKey);
    for (const i of [5, 40, key.length - 3]) {
      const c = key[i] === 'A' ? 'B' : 'A';
      const tampered = key.slice(0, i) + c + key.slice(i + 1);
      expect(['key_bad_signature', 'key_malformed', 'key_unknown_signer']).toContain(codeOf(() => verifyKey(tampered, { signers, now })));
    }
  });

  it('refuses keys for another serial, expired, not yet valid, or from an unknown signer, each with its code', () => {
    const key = encodeKey(payload(), privateKey);
    expect(codeOf(() => verifyKey(key, { signers, serial: 'K1000-000000', now }))).toBe('key_wrong_serial');
    expect(codeOf(() => verifyKey(key, { signers, now: new Date((iat + 3600) * 1000) }))).toBe('key_expired');
    expect(codeOf(() => verifyKey(encodeKey(payload({ iat: iat + 3600, exp: iat + 7200 }), privateKey), { signers, now }))).toBe('key_not_yet_valid');
    const other = generateKeyPairSync('ed25519');
    expect(codeOf(() => verifyKey(encodeKey(payload({ kid: keyIdOf(other.publicKey) }), other.privateKey), { signers, now }))).toBe('key_unknown_signer');
    // A foreign signer claiming our kid fails on the signature.
    expect(codeOf(() => verifyKey(encodeKey(payload(), other.privateKey), { signers, now }))).toBe('key_bad_signature');
  });

  it('refuses text that is not a key at all', () => {
    for (const text of ['', 'hello', 'KT1.abc', 'KT2.e30.e30', 'KT1.!!!.abc', `KT1.${Buffer.from('{}').toString('base64url')}.abc`]) {
      expect(codeOf(() => decodeKey(text))).toBe('key_malformed');
    }
  });
});

describe('tunnel credential key pairs', () => {
  it('generateSeedPair returns a seed whose derived public key is the one it reports', async () => {
    const { generateSeedPair, rawPublicFromSeed } = await import('../../shared/ssh-keys.js');
    const { seed, raw } = generateSeedPair();
    expect(seed).toHaveLength(32);
    expect(rawPublicFromSeed(seed).equals(raw)).toBe(true);
  });
});

describe('session ids', () => {
  it('never start with "-" or "_", so a CLI never reads one as an option', async () => {
    const { newId } = await import('../../shared/session/issue-key.js');
    const ids = Array.from({ length: 5_000 }, () => newId());
    expect(ids.filter((id) => /^[-_]/.test(id))).toEqual([]);
    expect(new Set(ids.map((id) => id.length))).toEqual(new Set([16]));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
