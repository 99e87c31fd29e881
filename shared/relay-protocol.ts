// What the relay tells an SSH client in words, shared by the relay (sender) and the agent (reader).
// SSH gives a refused login no reason text, so the relay sends a USERAUTH_BANNER line first
// (RFC 4252 §5.4: allowed any time before authentication succeeds). Wire-level: the agent imports it.

/** Every relay banner starts with this, so a reader can tell ours from anything else. */
export const RELAY_BANNER_PREFIX = 'tether relay: ';

export const RELAY_REFUSALS = {
  keyAlreadyUsed: 'key already used',
  sessionClosed: 'session closed',
  keyExpired: 'key expired',
  unavailable: 'service unavailable, try again',
} as const;
export type RelayRefusal = keyof typeof RELAY_REFUSALS;

/** The banner text for a refusal; `detail` (no secrets) follows the fixed words after a colon. */
export function refusalBanner(kind: RelayRefusal, detail?: string): string {
  return `${RELAY_BANNER_PREFIX}${RELAY_REFUSALS[kind]}${detail ? `: ${detail}` : ''}\r\n`;
}

/** Reads a relay banner back: which refusal, and the one-line text to show. Null for other banners. */
export function parseRefusalBanner(banner: string): { kind: RelayRefusal; text: string } | null {
  const line = banner.trim();
  if (!line.startsWith(RELAY_BANNER_PREFIX)) return null;
  const text = line.slice(RELAY_BANNER_PREFIX.length);
  for (const [kind, words] of Object.entries(RELAY_REFUSALS) as [RelayRefusal, string][]) {
    if (text === words || text.startsWith(`${words}:`)) return { kind, text };
  }
  return null;
}

/**
 * A notice from the relay to the agent on a live tunnel: an SSH global request without want-reply
 * (RFC 4254 §4), so agents that do not know it ignore it. `expiry@tether` carries the session's
 * expiry (epoch ms, decimal, as an SSH string): sent after the tunnel's first accepted forward and
 * whenever an operator extends the session, so `ktether status` shows what the relay enforces.
 */
export const EXPIRY_NOTICE = 'expiry@tether';

export function encodeExpiryNotice(expiresAt: number): Buffer {
  const text = Buffer.from(String(Math.trunc(expiresAt)), 'ascii');
  const out = Buffer.alloc(4 + text.length);
  out.writeUInt32BE(text.length, 0);
  text.copy(out, 4);
  return out;
}

/** The expiry in a notice's data, or null when it is not one (wrong length, not a positive integer). */
export function decodeExpiryNotice(data: Buffer): number | null {
  if (data.length < 5 || data.length > 4 + 16) return null;
  const len = data.readUInt32BE(0);
  if (len !== data.length - 4) return null;
  const text = data.subarray(4).toString('ascii');
  if (!/^[1-9]\d{0,15}$/.test(text)) return null;
  const ms = Number(text);
  return Number.isSafeInteger(ms) ? ms : null;
}
