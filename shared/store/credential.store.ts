// Custody of generated support passwords: kept encrypted at rest (AES-256-GCM, key derived from
// the signing key with HKDF, the session id as additional data), expiring with the session and
// destroyed when it closes. Revealing and auditing is the caller's job (`tether session credentials`).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';

const INFO = 'tether support password at rest v1';

export function credentialSecretFrom(signingPrivateKey: KeyObject): Buffer {
  const der = signingPrivateKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), INFO, 32));
}

export class CredentialStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly secret: Buffer,
  ) {
    if (secret.length !== 32) throw new AppError('internal', 'credential secret must be 32 bytes');
    this.prefix = `${prefix}custody:pw:`;
  }

  private key(sid: string): string {
    return `${this.prefix}${sid}`;
  }

  async put(sid: string, password: string, expiresAt: number, now: number): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.secret, iv);
    cipher.setAAD(Buffer.from(sid));
    const ct = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]);
    const sealed = [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.');
    await this.redis.set(this.key(sid), sealed, 'PX', Math.max(1_000, expiresAt - now));
  }

  /** The password, or null when none is held (customer-chosen, destroyed, expired). */
  async reveal(sid: string): Promise<string | null> {
    const sealed = await this.redis.get(this.key(sid));
    if (!sealed) return null;
    const [iv, tag, ct] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !tag || !ct) throw new AppError('internal', `stored password of session ${sid} is damaged`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.secret, iv);
      decipher.setAAD(Buffer.from(sid));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new AppError('internal', `stored password of session ${sid} does not open with this signing key`, { cause });
    }
  }

  async holds(sid: string): Promise<boolean> {
    return (await this.redis.exists(this.key(sid))) === 1;
  }

  /** True when a password was there to destroy. */
  async destroy(sid: string): Promise<boolean> {
    return (await this.redis.del(this.key(sid))) === 1;
  }
}
