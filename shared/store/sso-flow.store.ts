// Console single sign-ons under way: the random `state` sent to the identity provider → the PKCE
// verifier, the nonce, the redirect URL used, and the SHA-256 of the browser-binding cookie. Kept
// under the SHA-256 of the state for 10 minutes and taken once (GETDEL): a replayed or tampered
// callback finds nothing. Holds no token and no identity.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { redisKeys } from './redis-keys.js';
import { SecretIdRecords } from './secret-id-records.js';
import { parseStoredJson } from './stored-json.js';

export const SSO_FLOW_TTL_MS = 10 * 60_000;

export const ssoFlowSchema = z.object({
  verifier: z.string().min(43).max(128),
  nonce: z.string().min(16).max(200),
  redirectUri: z.url(),
  /** Hex SHA-256 of the `tether_sso` cookie set on the browser that started the sign-in. */
  browser: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number().int(),
});
export type SsoFlow = z.infer<typeof ssoFlowSchema>;

export class SsoFlowStore {
  private readonly records: SecretIdRecords;

  constructor(redis: Redis, prefix: string, ttlMs = SSO_FLOW_TTL_MS) {
    this.records = new SecretIdRecords(redis, redisKeys(prefix).ssoFlow, ttlMs);
  }

  /** Remembers a new sign-in; returns its `state` (random, 32 bytes). */
  async create(flow: SsoFlow): Promise<string> {
    return this.records.add(JSON.stringify(ssoFlowSchema.parse(flow)));
  }

  /** The sign-in started with `state`, deleted in the same step; null when unknown, expired, used or unreadable. */
  async take(state: string): Promise<SsoFlow | null> {
    if (state.length === 0 || state.length > 200) return null;
    return parseStoredJson(ssoFlowSchema, await this.records.take(state));
  }
}
