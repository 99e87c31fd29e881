// Custody of support passwords, in one Redis key per session that expires with it and is destroyed
// when it closes: a password generated here (sealed keys) is kept AES-256-GCM at rest (key derived
// from the signing key, session id as AAD); one the appliance escrowed is kept exactly as the relay
// received it, sealed to the custody X25519 key, and opened only here. Revealing and auditing is the
// caller's job (`tether session credentials`).
import { createPrivateKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { escrowBoxSchema, openPassword } from '../key/password-escrow.js';
import { rawPublicKey } from '../key/sealing.js';
import { serialSchema } from '../key/tether-key.schema.js';
import { atRestSecret, openAtRest, sealAtRest } from '../secret-at-rest.js';
import { custodyRedisKey } from './redis-keys.js';

const INFO = 'tether support password at rest v1';
const CUSTODY_INFO = 'tether password custody x25519 v1';
/** PKCS#8 DER of an X25519 private key (RFC 8410) is this prefix and the 32 raw bytes. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function credentialSecretFrom(signingPrivateKey: KeyObject): Buffer {
  return atRestSecret(signingPrivateKey, INFO);
}

export interface CustodyKey {
  privateKey: KeyObject;
  /** Raw 32-byte X25519 public key: what escrow-mode keys carry as `custody`. */
  publicRaw: Buffer;
}

/**
 * The vendor's custody key pair, derived (HKDF-SHA256) from the credential secret and so from the
 * signing key: every host that mints keys or reveals passwords has it without another file to
 * guard, and it changes with the signing key. The relay never needs it.
 */
export function custodyKeyFrom(credentialSecret: Buffer): CustodyKey {
  const raw = Buffer.from(hkdfSync('sha256', credentialSecret, Buffer.alloc(0), CUSTODY_INFO, 32));
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicRaw: rawPublicKey(privateKey) };
}

/** An escrowed password as stored: the relay's record of which appliance sent the box, and the box. */
export const escrowedValueSchema = z.object({ serial: serialSchema, box: escrowBoxSchema }).strict();
export type EscrowedValue = z.infer<typeof escrowedValueSchema>;

/** One canonical text per (serial, box), so a re-sent escrow compares equal to the stored one. */
export function escrowedValueText(v: EscrowedValue): string {
  const { serial, box } = escrowedValueSchema.parse(v);
  return JSON.stringify({ serial: serial.toUpperCase(), box: { v: box.v, epk: box.epk, iv: box.iv, tag: box.tag, ct: box.ct } });
}

export class CredentialStore {
  private custodyKey: CustodyKey | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly secret: Buffer,
  ) {
    if (secret.length !== 32) throw new AppError('internal', 'credential secret must be 32 bytes');
  }

  private key(sid: string): string {
    return custodyRedisKey(this.prefix, sid);
  }

  get custody(): CustodyKey {
    this.custodyKey ??= custodyKeyFrom(this.secret);
    return this.custodyKey;
  }

  async put(sid: string, password: string, expiresAt: number, now: number): Promise<void> {
    const sealed = sealAtRest(this.secret, sid, password);
    await this.redis.set(this.key(sid), sealed, 'PX', Math.max(1_000, expiresAt - now));
  }

  /** The password, or null when none is held (customer-chosen, not escrowed yet, destroyed, expired). */
  async reveal(sid: string): Promise<string | null> {
    const stored = await this.redis.get(this.key(sid));
    if (!stored) return null;
    if (stored.startsWith('{')) return this.openEscrowed(sid, stored);
    try {
      return openAtRest(this.secret, sid, stored);
    } catch (cause) {
      throw new AppError('internal', `stored password of session ${sid} does not open with this signing key`, { cause });
    }
  }

  private openEscrowed(sid: string, stored: string): string {
    let value: EscrowedValue;
    try {
      value = escrowedValueSchema.parse(JSON.parse(stored));
    } catch (cause) {
      throw new AppError('internal', `escrowed password of session ${sid} is unreadable`, { cause });
    }
    return openPassword(value.box, this.custody.privateKey, value.serial, sid);
  }

  async holds(sid: string): Promise<boolean> {
    return (await this.redis.exists(this.key(sid))) === 1;
  }

  /** True when a password was there to destroy. */
  async destroy(sid: string): Promise<boolean> {
    return (await this.redis.del(this.key(sid))) === 1;
  }
}
