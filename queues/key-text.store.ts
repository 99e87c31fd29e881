// Holds a freshly minted key's text between minting and delivery, so that job data never carries
// it. The text is sealed (AES-256-GCM, key derived from the signing key with HKDF) and expires
// with the session; it is deleted after delivery and when the session closes.
import type { KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';
import { atRestSecret, openAtRest, sealAtRest } from '../shared/secret-at-rest.js';
import { pipelineKeys, type PipelineKeys } from './pipeline-keys.js';

const INFO = 'tether key text at rest v1';
/** Delivery markers outlive the session by a week, for late retries and audits. */
const DELIVERED_GRACE_MS = 7 * 86_400_000;

export function keyTextSecretFrom(signingPrivateKey: KeyObject): Buffer {
  return atRestSecret(signingPrivateKey, INFO);
}

export class KeyTextStore {
  private readonly keys: PipelineKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly secret: Buffer,
  ) {
    if (secret.length !== 32) throw new AppError('internal', 'key text secret must be 32 bytes');
    this.keys = pipelineKeys(prefix);
  }

  async put(sid: string, keyText: string, expiresAt: number, now: number): Promise<void> {
    const sealed = sealAtRest(this.secret, sid, keyText);
    await this.redis.set(this.keys.keyText(sid), sealed, 'PX', Math.max(1_000, expiresAt - now));
  }

  /** The key text, or null when it is gone (delivered, closed, expired). */
  async get(sid: string): Promise<string | null> {
    const sealed = await this.redis.get(this.keys.keyText(sid));
    if (!sealed) return null;
    try {
      return openAtRest(this.secret, sid, sealed);
    } catch (cause) {
      throw new AppError('internal', `sealed key text of session ${sid} does not open with this signing key`, { cause });
    }
  }

  async forget(sid: string): Promise<void> {
    await this.redis.del(this.keys.keyText(sid));
  }

  async markDelivered(sid: string, expiresAt: number, now: number): Promise<void> {
    await this.redis.set(this.keys.delivered(sid), String(now), 'PX', Math.max(1_000, expiresAt - now + DELIVERED_GRACE_MS));
  }

  async isDelivered(sid: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.delivered(sid))) === 1;
  }
}
