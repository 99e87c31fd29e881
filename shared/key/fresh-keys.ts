// Fresh Ed25519 and X25519 key pairs without generateKeyPairSync. On Node 20.20 a key made by
// generateKeyPairSync and then exported as JWK can deadlock the whole process when a GC runs during
// the export (the key-generation job's finalizer waits for the lock the export holds): seen in the
// relay's key exchange at 10,000 tunnels, and reproduced by a loop within seconds. A random private
// key imported as JWK is the same key material (OpenSSL derives the public half; the placeholder
// `x` is not used), costs ~60 µs with the export, and never deadlocked in ~10^6 keys.
// Wire-level: the agent uses it (identity, sealing, its login key).
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

const PLACEHOLDER_X = 'A'.repeat(43);

export interface FreshKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The 32 random bytes the private key is (an Ed25519 seed, an X25519 scalar). */
  secret: Buffer;
}

export function freshKeyPair(type: 'ed25519' | 'x25519'): FreshKeyPair {
  const secret = randomBytes(32);
  const crv = type === 'ed25519' ? 'Ed25519' : 'X25519';
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv, d: secret.toString('base64url'), x: PLACEHOLDER_X }, format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey), secret };
}
