// Server-side key material under TETHER_HOME/keys: the vendor signing key (signing.key/.pub) and
// the relay host key (relay_host_key/.pub). Generated on first start, then only read.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fingerprintOfBlob,
  generateSeed,
  openSshPrivateKeyFromSeed,
  openSshPublicLine,
  rawPublicFromSeed,
} from '../ssh-keys.js';
import { keyIdOf } from './key-codec.js';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export interface RelayHostKey {
  /** OpenSSH private key text, as ssh2's Server takes it. */
  privateKey: string;
  publicLine: string;
  fingerprint: string;
}

function writeSecretFile(path: string, data: string): void {
  // Written under a temporary name and renamed, so a crash never leaves half a key behind.
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function keysDir(home: string): string {
  const dir = join(home, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function loadOrCreateSigningKey(home: string): SigningKey {
  const dir = keysDir(home);
  const privPath = join(dir, 'signing.key');
  const pubPath = join(dir, 'signing.pub');
  if (!existsSync(privPath)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeSecretFile(privPath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  }
  const privateKey = createPrivateKey(readFileSync(privPath));
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  if (!existsSync(pubPath) || readFileSync(pubPath, 'utf8') !== publicPem) writeFileSync(pubPath, publicPem, { mode: 0o644 });
  return { kid: keyIdOf(publicKey), privateKey, publicKey, publicPem };
}

export function loadOrCreateRelayHostKey(home: string): RelayHostKey {
  const dir = keysDir(home);
  const privPath = join(dir, 'relay_host_key');
  const pubPath = join(dir, 'relay_host_key.pub');
  if (!existsSync(privPath)) {
    const seed = generateSeed();
    writeSecretFile(privPath, openSshPrivateKeyFromSeed(seed, 'tether-relay'));
    writeFileSync(pubPath, `${openSshPublicLine(rawPublicFromSeed(seed), 'tether-relay')}\n`, { mode: 0o644 });
  }
  const privateKey = readFileSync(privPath, 'utf8');
  const publicLine = readFileSync(pubPath, 'utf8').trim();
  const b64 = publicLine.split(/\s+/)[1] ?? '';
  return { privateKey, publicLine, fingerprint: fingerprintOfBlob(Buffer.from(b64, 'base64')) };
}

