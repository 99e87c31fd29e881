// The generic help desk's signature scheme, both directions: `X-Tether-Timestamp: <unix seconds>`
// and `X-Tether-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, compared in
// constant time, with a replay window of five minutes either way.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Verdict } from './ticket-adapter.js';

export const TIMESTAMP_HEADER = 'x-tether-timestamp';
export const SIGNATURE_HEADER = 'x-tether-signature';
export const REPLAY_WINDOW_S = 300;

function hmacHex(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest('hex');
}

/** The two headers for an outbound (or test) request. */
export function signGeneric(secret: string, body: Buffer | string, nowMs: number): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { 'X-Tether-Timestamp': timestamp, 'X-Tether-Signature': `sha256=${hmacHex(secret, timestamp, body)}` };
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function verifyGeneric(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  rawBody: Buffer,
  nowMs: number,
): Verdict {
  const timestamp = header(headers, TIMESTAMP_HEADER);
  const signature = header(headers, SIGNATURE_HEADER);
  if (!signature) return { ok: false, reason: 'missing X-Tether-Signature header' };
  if (!timestamp) return { ok: false, reason: 'missing X-Tether-Timestamp header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Tether-Timestamp must be unix seconds' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > REPLAY_WINDOW_S) {
    return { ok: false, reason: 'stale timestamp: more than 5 minutes off' };
  }
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(signature);
  if (!m) return { ok: false, reason: 'X-Tether-Signature must be sha256=<64 hex digits>' };
  const got = Buffer.from(m[1]!.toLowerCase(), 'hex');
  const want = Buffer.from(hmacHex(secret, timestamp, rawBody), 'hex');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}
