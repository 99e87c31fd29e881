// Byte-level helpers every webhook verifier shares: header lookup, HMAC-SHA256, digest decoding
// and constant-time comparison (lengths checked first, since timingSafeEqual throws on a mismatch).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookHeaders } from './ticket-adapter.js';

/** Node lower-cases incoming header names; a repeated header counts by its first value. */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()] ?? headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function hmacSha256(secret: string, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac('sha256', secret);
  for (const p of parts) mac.update(p);
  return mac.digest();
}

export function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Shared-secret comparison that leaks neither content nor length (both sides hashed first). */
export function equalSecrets(given: string, expected: string): boolean {
  const h = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(given), h(expected)) && given.length === expected.length;
}

/** A SHA-256 digest written as 64 hex digits or as base64 (44 characters with padding); null otherwise. */
export function decodeSha256Digest(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  return null;
}

/** Short stable digest of bytes, for delivery ids composed from a body. */
export function bodyDigest(rawBody: Buffer): string {
  return createHash('sha256').update(rawBody).digest('hex').slice(0, 32);
}
