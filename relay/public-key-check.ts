// Checks shared by engineer and appliance authentication: the outcome type, constant-time key
// comparison and the proof-of-possession signature check. No key material is ever logged.
import { timingSafeEqual, verify } from 'node:crypto';
import ssh2 from 'ssh2';
import type { PublicKeyAuthContext } from 'ssh2';
import { publicKeyObjectFromRaw } from '../shared/ssh-keys.js';

const ED25519_BLOB_LENGTH = 4 + 'ssh-ed25519'.length + 4 + 32;

/**
 * `accept`: the offered key belongs to `identity`. Without a signature (OpenSSH first asks "would
 * you take this key?") the caller answers PK_OK and records nothing; with a valid signature the
 * connection is authenticated as `identity`.
 */
export type AuthOutcome<T> = { kind: 'accept'; identity: T } | { kind: 'refuse'; reason: string };

export function refuse(reason: string): { kind: 'refuse'; reason: string } {
  return { kind: 'refuse', reason };
}

/** Constant-time for equal lengths; key lengths are public, so the early length check leaks nothing. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when there is no signature yet (key query) or the signature verifies against the offered key. */
export function signatureAcceptable(ctx: PublicKeyAuthContext): boolean {
  if (!ctx.signature) return true;
  if (!ctx.blob) return false;
  if (ctx.key.algo === 'ssh-ed25519' && ctx.key.data.length === ED25519_BLOB_LENGTH) {
    // Every appliance and most engineers: verify straight from the raw key, without ssh2 re-parsing
    // the blob into PEM on each attempt (ssh2 passes Ed25519 signatures through unchanged).
    try {
      return verify(null, ctx.blob, publicKeyObjectFromRaw(ctx.key.data.subarray(ED25519_BLOB_LENGTH - 32)), ctx.signature);
    } catch {
      return false;
    }
  }
  const parsed = ssh2.utils.parseKey(ctx.key.data);
  if (parsed instanceof Error || Array.isArray(parsed)) return false;
  try {
    return parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo);
  } catch {
    return false;
  }
}
