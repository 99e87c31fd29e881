// Server-side key material under TETHER_HOME/keys: the vendor signing key (signing.key/.pub) and
// the relay host key (relay_host_key/.pub). Only the server creates them (on its first start,
// `loadOrCreate…`); the operator CLI only loads them and refuses to run without them, so a CLI on
// another host or in another folder never mints keys nobody trusts. The folder is 0700 and every
// file in it 0600 (public halves too), narrowed on each server load if found wider.
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
import { AppError } from '../errors.js';
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

/** Refuses a key file that is not there, naming it and TETHER_HOME; creates and changes nothing. */
function requireKeyFile(home: string, name: string): string {
  const path = join(home, 'keys', name);
  if (!existsSync(path)) {
    throw new AppError('config_invalid', `no ${name} in ${join(home, 'keys')}: keys are made only by the server (scripts/up, serve); set TETHER_HOME to its data dir (TETHER_HOME is ${home})`);
  }
  return path;
}

/** The signing key the server made; never creates one (the operator CLI). */
export function loadSigningKey(home: string): SigningKey {
  const privateKey = createPrivateKey(readFileSync(requireKeyFile(home, 'signing.key')));
  const publicKey = createPublicKey(privateKey);
  return { kid: keyIdOf(publicKey), privateKey, publicKey, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

/** The public half of the relay host key the server made (what keys and ssh-config pin); never creates one. */
export function loadRelayHostPublicKey(home: string): Omit<RelayHostKey, 'privateKey'> {
  return relayPublicOf(readFileSync(requireKeyFile(home, 'relay_host_key.pub'), 'utf8'));
}

function relayPublicOf(text: string): Omit<RelayHostKey, 'privateKey'> {
  const publicLine = text.trim();
  const b64 = publicLine.split(/\s+/)[1] ?? '';
  return { publicLine, fingerprint: fingerprintOfBlob(Buffer.from(b64, 'base64')) };
}

/** Server start only: makes the signing key when missing. */
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

/** Server start only: makes the relay host key when missing. */
export function loadOrCreateRelayHostKey(home: string): RelayHostKey {
  const dir = keysDir(home);
  const privPath = join(dir, 'relay_host_key');
  const pubPath = join(dir, 'relay_host_key.pub');
  if (!existsSync(privPath)) {
    const seed = generateSeed();
    writePrivateFile(privPath, openSshPrivateKeyFromSeed(seed, 'tether-relay'));
    writePrivateFile(pubPath, `${openSshPublicLine(rawPublicFromSeed(seed), 'tether-relay')}\n`);
  }
  return { privateKey: readFileSync(privPath, 'utf8'), ...relayPublicOf(readFileSync(pubPath, 'utf8')) };
}

