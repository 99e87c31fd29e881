// Ed25519 keys in the shapes SSH needs: public-key blobs, `ssh-ed25519 AAAA…` lines, OpenSSH
// private-key files and SHA256 fingerprints, built from a 32-byte seed with node:crypto only.
// Wire-level: the appliance agent uses it, so it must not import anything server-side.
import { createHash, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { freshKeyPair } from './key/fresh-keys.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function generateSeed(): Buffer {
  return randomBytes(32);
}

/** A fresh key pair as seed and raw public key (cheaper than deriving the public half from a seed). */
export function generateSeedPair(): { seed: Buffer; raw: Buffer } {
  const { publicKey, secret } = freshKeyPair('ed25519');
  return { seed: secret, raw: Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url') };
}

export function privateKeyObjectFromSeed(seed: Buffer) {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** From JWK, not DER: OpenSSL 3 decodes a DER key in ~80 µs here, a JWK in ~10 µs (the relay does this per login). */
export function publicKeyObjectFromRaw(raw: Buffer) {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The raw 32-byte Ed25519 public key for a seed. */
export function rawPublicFromSeed(seed: Buffer): Buffer {
  const der = createPublicKey(privateKeyObjectFromSeed(seed)).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** SSH wire blob of an Ed25519 public key: string "ssh-ed25519" + string raw. */
export function publicKeyBlob(raw: Buffer): Buffer {
  return Buffer.concat([sshString('ssh-ed25519'), sshString(raw)]);
}

/** `ssh-ed25519 AAAA… comment`, as in an authorized_keys or .pub file. */
export function openSshPublicLine(raw: Buffer, comment = ''): string {
  const line = `ssh-ed25519 ${publicKeyBlob(raw).toString('base64')}`;
  return comment ? `${line} ${comment}` : line;
}

/** OpenSSH's `SHA256:…` fingerprint of a public-key blob (unpadded base64). */
export function fingerprintOfBlob(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * An unencrypted `openssh-key-v1` private key file for the seed, readable by stock OpenSSH
 * (`ssh -i`) and by ssh2. The check integers are random, as OpenSSH writes them.
 */
export function openSshPrivateKeyFromSeed(seed: Buffer, comment = ''): string {
  const raw = rawPublicFromSeed(seed);
  const blob = publicKeyBlob(raw);
  const check = randomBytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(raw),
    sshString(Buffer.concat([seed, raw])),
    sshString(comment),
  ]);
  const pad = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from([1, 2, 3, 4, 5, 6, 7].slice(0, pad))]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    nkeys,
    sshString(blob),
    sshString(priv),
  ]);
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`;
}

/** Parses a `ssh-ed25519 AAAA…` line back to its raw key; null when it is not one. */
export function rawFromOpenSshPublicLine(line: string): Buffer | null {
  const parts = line.trim().split(/\s+/);
  if (parts[0] !== 'ssh-ed25519' || !parts[1]) return null;
  const blob = Buffer.from(parts[1], 'base64');
  const expectedPrefix = sshString('ssh-ed25519');
  if (blob.length !== expectedPrefix.length + 4 + 32 || !blob.subarray(0, expectedPrefix.length).equals(expectedPrefix)) return null;
  return blob.subarray(blob.length - 32);
}
