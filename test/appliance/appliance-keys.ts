// Test vendor: a signing key pair and keys for a simulated appliance, as the orchestrator mints them.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeKey, keyIdOf } from '../../shared/key/key-codec.js';
import type { TetherKeyPayload } from '../../shared/key/tether-key.schema.js';
import { generateSeed } from '../../shared/ssh-keys.js';

export interface TestVendor {
  privateKey: KeyObject;
  publicPem: string;
  /** Writes the vendor public key into `dir` and returns its path. */
  writePublic(dir: string): string;
  key(over?: Partial<TetherKeyPayload>): { text: string; payload: TetherKeyPayload; seed: Buffer };
}

export function testVendor(defaults: { serial: string; relay: TetherKeyPayload['relay'] }): TestVendor {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return {
    privateKey,
    publicPem,
    writePublic(dir) {
      const path = join(dir, 'signing.pub');
      writeFileSync(path, publicPem);
      return path;
    },
    key(over = {}) {
      const seed = generateSeed();
      const iat = Math.floor(Date.now() / 1000);
      const payload: TetherKeyPayload = {
        v: 1,
        kid: keyIdOf(publicKey),
        jti: randomBytes(12).toString('base64url'),
        sid: randomBytes(12).toString('base64url'),
        serial: defaults.serial,
        product: 'sma',
        iat,
        exp: iat + 3600,
        relay: defaults.relay,
        ports: [22, 80, 443, 3306],
        cred: seed.toString('base64url'),
        pw: { mode: 'generated', value: 'Generated-Passw0rd-1' },
        ...over,
      };
      return { text: encodeKey(payload, privateKey), payload, seed: over.cred ? Buffer.from(over.cred, 'base64url') : seed };
    },
  };
}
