// Console single sign-ons under way: the random `state` sent to the identity provider → the PKCE
// verifier, the nonce, the redirect URL used, and the SHA-256 of the browser-binding cookie. Kept
// under the SHA-256 of the state for 10 minutes and taken once (GETDEL): a replayed or tampered
// callback finds nothing. Holds no token and no identity.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { redisKeys, type RedisKeys } from './redis-keys.js';
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

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export class SsoFlowStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlMs = SSO_FLOW_TTL_MS,
  ) {
    this.keys = redisKeys(prefix);
  }

  /** Remembers a new sign-in; returns its `state` (random, 32 bytes). */
  async create(flow: SsoFlow): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    await this.redis.set(this.keys.ssoFlow(sha256Hex(state)), JSON.stringify(ssoFlowSchema.parse(flow)), 'PX', this.ttlMs);
    return state;
  }

  /** The sign-in started with `state`, deleted in the same step; null when unknown, expired, used or unreadable. */
  async take(state: string): Promise<SsoFlow | null> {
    if (state.length === 0 || state.length > 200) return null;
    const raw = await this.redis.getdel(this.keys.ssoFlow(sha256Hex(state)));
    return parseStoredJson(ssoFlowSchema, raw);
  }
}
