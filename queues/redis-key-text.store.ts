// The key text store in Redis: the text sealed at rest (AES-256-GCM, key derived from the signing
// key with HKDF) under a key that expires with the session; the delivery record and the text's
// removal in one MULTI.
import type { KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';
import { atRestSecret, openAtRest, sealAtRest } from '../shared/secret-at-rest.js';
import type { DeliveryChannel } from './job-schemas.js';
import type { KeyTextStore } from './key-text.store.js';
import { pipelineKeys, type PipelineKeys } from '../shared/store/redis-keys.js';

const INFO = 'tether key text at rest v1';
/** Delivery markers outlive the session by a week, for late retries and audits. */
const DELIVERED_GRACE_MS = 7 * 86_400_000;

export function keyTextSecretFrom(signingPrivateKey: KeyObject): Buffer {
  return atRestSecret(signingPrivateKey, INFO);
}

export class RedisKeyTextStore implements KeyTextStore {
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

  async recordDelivered(sid: string, channel: DeliveryChannel, expiresAt: number, now: number): Promise<void> {
    const ttlMs = Math.max(1_000, expiresAt - now + DELIVERED_GRACE_MS);
    const replies = await this.redis
      .multi()
      .set(this.keys.delivered(sid, channel), String(now), 'PX', ttlMs)
      .del(this.keys.keyText(sid))
      .exec();
    const failed = replies?.find(([err]) => err)?.[0];
    // Retried like a lost connection: the retry sends again (same Message-ID), the documented window.
    if (!replies || failed) throw new AppError('internal', `could not record the delivery of session ${sid}`, { retryable: true, cause: failed ?? undefined });
  }

  async isDelivered(sid: string, channel: DeliveryChannel = 'email'): Promise<boolean> {
    // Markers from before the channel was part of the key meant email; live sessions still hold some.
    const keys = channel === 'email' ? [this.keys.delivered(sid, channel), this.keys.legacyDelivered(sid)] : [this.keys.delivered(sid, channel)];
    return (await this.redis.exists(...keys)) > 0;
  }

  async recordMinting(jobId: string, sid: string, expiresAt: number, now: number): Promise<void> {
    await this.redis.set(this.keys.minting(jobId), sid, 'PX', Math.max(1_000, expiresAt - now + DELIVERED_GRACE_MS));
  }

  mintedBy(jobId: string): Promise<string | null> {
    return this.redis.get(this.keys.minting(jobId));
  }
}
