// Custody of generated support passwords: kept encrypted at rest (AES-256-GCM, key derived from
// the signing key with HKDF, the session id as additional data), expiring with the session and
// destroyed when it closes. Revealing and auditing is the caller's job (`tether session credentials`).
import type { KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import { atRestSecret, openAtRest, sealAtRest } from '../secret-at-rest.js';

const INFO = 'tether support password at rest v1';

export function credentialSecretFrom(signingPrivateKey: KeyObject): Buffer {
  return atRestSecret(signingPrivateKey, INFO);
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
    const sealed = sealAtRest(this.secret, sid, password);
    await this.redis.set(this.key(sid), sealed, 'PX', Math.max(1_000, expiresAt - now));
  }

  /** The password, or null when none is held (customer-chosen, destroyed, expired). */
  async reveal(sid: string): Promise<string | null> {
    const sealed = await this.redis.get(this.key(sid));
    if (!sealed) return null;
    try {
      return openAtRest(this.secret, sid, sealed);
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
