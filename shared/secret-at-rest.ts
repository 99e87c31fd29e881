// Secrets kept in Redis for a while (a key's text until delivery, a support password until the
// session closes): AES-256-GCM under a key derived with HKDF from the signing key, the session id
// as additional data so a sealed value cannot be moved to another session.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

/** A 32-byte key for one purpose (`info`), derived from the signing key. */
export function atRestSecret(signingPrivateKey: KeyObject, info: string): Buffer {
  const der = signingPrivateKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), info, 32));
}

/** `<iv>.<tag>.<ciphertext>`, base64url. */
export function sealAtRest(secret: Buffer, sid: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  cipher.setAAD(Buffer.from(sid));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.');
}

/** The plaintext; throws when the value is damaged, from another session or another signing key. */
export function openAtRest(secret: Buffer, sid: string, sealed: string): string {
  const [iv, tag, ct] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !ct) throw new Error('sealed value is damaged');
  const decipher = createDecipheriv('aes-256-gcm', secret, iv);
  decipher.setAAD(Buffer.from(sid));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
}
