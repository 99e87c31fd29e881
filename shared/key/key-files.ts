// Server-side key material under TETHER_HOME/keys: the vendor signing key (signing.key/.pub) and
// the relay host key (relay_host_key/.pub). Generated on first start, then only read. The folder
// is 0700 and every file in it 0600 (public halves too), narrowed on each load if found wider.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeOwnerOnly, writePrivateFile } from '../private-files.js';
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

export function keysDir(home: string): string {
  const dir = join(home, 'keys');
  makeOwnerOnly(dir);
  return dir;
}

export function loadOrCreateSigningKey(home: string): SigningKey {
  const dir = keysDir(home);
  const privPath = join(dir, 'signing.key');
  const pubPath = join(dir, 'signing.pub');
  if (!existsSync(privPath)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writePrivateFile(privPath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  }
  const privateKey = createPrivateKey(readFileSync(privPath));
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  if (!existsSync(pubPath) || readFileSync(pubPath, 'utf8') !== publicPem) writePrivateFile(pubPath, publicPem);
  return { kid: keyIdOf(publicKey), privateKey, publicKey, publicPem };
}

export function loadOrCreateRelayHostKey(home: string): RelayHostKey {
  const dir = keysDir(home);
  const privPath = join(dir, 'relay_host_key');
  const pubPath = join(dir, 'relay_host_key.pub');
  if (!existsSync(privPath)) {
    const seed = generateSeed();
    writePrivateFile(privPath, openSshPrivateKeyFromSeed(seed, 'tether-relay'));
    writePrivateFile(pubPath, `${openSshPublicLine(rawPublicFromSeed(seed), 'tether-relay')}\n`);
  }
  const privateKey = readFileSync(privPath, 'utf8');
  const publicLine = readFileSync(pubPath, 'utf8').trim();
  const b64 = publicLine.split(/\s+/)[1] ?? '';
  return { privateKey, publicLine, fingerprint: fingerprintOfBlob(Buffer.from(b64, 'base64')) };
}

