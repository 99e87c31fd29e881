// Seals a key's secrets (tunnel credential, support password) to one enrolled appliance: ephemeral
// X25519 → HKDF-SHA256 → AES-256-GCM, all from node:crypto. Only the holder of the appliance's
// X25519 private key opens them. Wire-level: the agent imports it; nothing server-side here.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { passwordSchema, type PasswordSpec } from './tether-key.schema.js';
import { freshKeyPair } from './fresh-keys.js';

/** HKDF info: names the format, so a key derived here is never valid for anything else. */
const SEAL_INFO = Buffer.from('KT1 sealed secrets v1');
const RAW_LEN = 32;

export interface SealedBox {
  /** base64url raw X25519 public key of the ephemeral sender key. */
  epk: string;
  iv: string;
  ct: string;
  tag: string;
}

/** What a sealed key hides: exactly the fields a bearer key carries in the clear. */
export const sealedSecretsSchema = z.object({ cred: z.string().length(43), pw: passwordSchema });
export type SealedSecrets = z.infer<typeof sealedSecretsSchema>;

function b64(buf: Buffer): string {
  return buf.toString('base64url');
}

/** Raw 32-byte public key of an X25519 or Ed25519 KeyObject (public or private). */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const x = pub.export({ format: 'jwk' }).x;
  if (!x) throw new AppError('internal', 'key has no raw public part');
  return Buffer.from(x, 'base64url');
}

export function x25519PublicFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== RAW_LEN) throw new AppError('key_malformed', 'X25519 public key must be 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(raw) }, format: 'jwk' });
}

export function ed25519PublicFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== RAW_LEN) throw new AppError('key_malformed', 'Ed25519 public key must be 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(raw) }, format: 'jwk' });
}

/** A fresh appliance identity: Ed25519 for request signatures, X25519 for sealing. */
export function generateIdentityKeys(): { signKey: KeyObject; sealKey: KeyObject } {
  return { signKey: freshKeyPair('ed25519').privateKey, sealKey: freshKeyPair('x25519').privateKey };
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function privateKeyFromPem(pem: string, type: 'ed25519' | 'x25519'): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== type) throw new AppError('internal', `expected an ${type} private key`);
  return key;
}

/** Additional data binding a box to one key: moving it into another key's payload breaks it. */
export function sealContext(serial: string, jti: string): string {
  return `KT1|${serial.toUpperCase()}|${jti}`;
}

function deriveKey(shared: Buffer, epk: Buffer, recipient: Buffer, info: Buffer): Buffer {
  // An all-zero secret means a low-order public key: nobody may seal to (or open with) it.
  if (shared.every((b) => b === 0)) throw new AppError('key_sealed_elsewhere', 'sealing key agreement failed');
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), info, 32));
}

/** `info` names the format (HKDF info): a box sealed for one purpose never opens as another. */
export function sealTo(recipientRaw: Buffer, plaintext: Buffer, context: string, info: Buffer = SEAL_INFO): SealedBox {
  const recipient = x25519PublicFromRaw(recipientRaw);
  const eph = freshKeyPair('x25519');
  const epk = rawPublicKey(eph.publicKey);
  const key = deriveKey(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), epk, recipientRaw, info);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { epk: b64(epk), iv: b64(iv), ct: b64(ct), tag: b64(cipher.getAuthTag()) };
}

/** Opens a box with the recipient's X25519 private key; any other key → key_sealed_elsewhere. */
export function openBox(box: SealedBox, recipientKey: KeyObject, context: string, info: Buffer = SEAL_INFO): Buffer {
  const epk = Buffer.from(box.epk, 'base64url');
  const iv = Buffer.from(box.iv, 'base64url');
  const tag = Buffer.from(box.tag, 'base64url');
  if (epk.length !== RAW_LEN || iv.length !== 12 || tag.length !== 16) throw new AppError('key_malformed', 'key is malformed: sealed part has the wrong shape');
  try {
    const key = deriveKey(diffieHellman({ privateKey: recipientKey, publicKey: x25519PublicFromRaw(epk) }), epk, rawPublicKey(recipientKey), info);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(box.ct, 'base64url')), decipher.final()]);
  } catch (cause) {
    throw new AppError('key_sealed_elsewhere', 'key is sealed to another appliance identity: it cannot be used here', { cause });
  }
}

export function sealSecrets(recipientRaw: Buffer, secrets: SealedSecrets, context: string): SealedBox {
  return sealTo(recipientRaw, Buffer.from(JSON.stringify(sealedSecretsSchema.parse(secrets))), context);
}

export function openSecrets(box: SealedBox, recipientKey: KeyObject, context: string): { cred: string; pw: PasswordSpec } {
  let json: unknown;
  try {
    json = JSON.parse(openBox(box, recipientKey, context).toString('utf8'));
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('key_malformed', 'key is malformed: sealed part is not valid JSON');
  }
  const parsed = sealedSecretsSchema.safeParse(json);
  if (!parsed.success) throw new AppError('key_malformed', 'key is malformed: sealed secrets are invalid');
  return parsed.data;
}
