// Builds the set of trusted vendor signing keys from PEM text (one or more SPKI blocks), as the
// agent's `--vendor-key FILE` holds them. Wire-level: safe for the agent.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AppError } from '../errors.js';
import { keyIdOf, type TrustedSigners } from './key-codec.js';

export function trustedSignersFromPem(pem: string): TrustedSigners {
  const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) throw new AppError('usage', 'vendor key file holds no PEM public key');
  const map = new Map<string, KeyObject>();
  for (const block of blocks) {
    const key = createPublicKey(block);
    if (key.asymmetricKeyType !== 'ed25519') throw new AppError('usage', 'vendor key must be an Ed25519 public key');
    map.set(keyIdOf(key), key);
  }
  return map;
}
