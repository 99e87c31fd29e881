// Imported first by the simulated appliances' process (agent-fleet-child) only: makes the X25519 key
// pairs of ssh2's key exchange without generateKeyPairSync. On Node 20.20, a key made by
// generateKeyPairSync and exported as JWK at once (what patches/ssh2-x25519-jwk.patch does per
// handshake) deadlocks the process when a GC during the export finalizes the key-generation job,
// which takes the key's mutex the export holds (seen in fleet-scale; reproduced in a loop within
// 5,000–100,000 keys). The relays keep the product's code path; this keeps the benchmark's own
// clients from hanging. Same keys: a random private scalar imported as JWK (its public half is
// derived from it; the `x` given is ignored by OpenSSL), ~60 µs with the export.
import crypto, { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

const original = crypto.generateKeyPairSync;
const UNUSED_X = 'A'.repeat(43);

function x25519Pair(): { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject } {
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: randomBytes(32).toString('base64url'), x: UNUSED_X }, format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

// ssh2 takes generateKeyPairSync from require('crypto') when it loads, after this module ran.
(crypto as { generateKeyPairSync: unknown }).generateKeyPairSync = (type: string, options?: unknown) =>
  type === 'x25519' && options === undefined ? x25519Pair() : (original as (t: string, o?: unknown) => unknown)(type, options);
