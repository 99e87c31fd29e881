// Console sign-ins: a random session id (the `tether_session` cookie) → who signed in, how, and the
// CSRF token of the session. Stored under the SHA-256 of the id, so a Redis dump holds no usable
// cookie; 12 h sliding: every use moves the expiry.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { operatorRoleSchema } from '../operator-role.js';
import { redisKeys } from './redis-keys.js';
import { SecretIdRecords } from './secret-id-records.js';
import { parseStoredJson } from './stored-json.js';

export const CONSOLE_SESSION_TTL_MS = 12 * 3_600_000;

/**
 * `operator`: a personal token; the role is read from the operator store on every use, so a removed
 * operator is signed out at once. `break-glass`: TETHER_ADMIN_TOKEN. `sso`: role from the provider's claims.
 */
export const consoleSessionSchema = z.object({
  name: z.string().min(1).max(200),
  role: operatorRoleSchema,
  kind: z.enum(['operator', 'break-glass', 'sso']),
  csrf: z.string().min(20),
  createdAt: z.number().int(),
});
export type ConsoleSession = z.infer<typeof consoleSessionSchema>;

export class ConsoleSessionStore {
  private readonly records: SecretIdRecords;

  constructor(redis: Redis, prefix: string, ttlMs = CONSOLE_SESSION_TTL_MS) {
    this.records = new SecretIdRecords(redis, redisKeys(prefix).consoleSession, ttlMs);
  }

  /** A new session; returns its id (the cookie value) and record. */
  async create(who: Omit<ConsoleSession, 'csrf' | 'createdAt'>, now: number): Promise<{ id: string; session: ConsoleSession }> {
    const session: ConsoleSession = { ...who, csrf: randomBytes(24).toString('base64url'), createdAt: now };
    const id = await this.records.add(JSON.stringify(session));
    return { id, session };
  }

  /** The session, its expiry moved 12 h on; null when unknown, expired or unreadable. */
  async use(id: string): Promise<ConsoleSession | null> {
    if (id.length > 100) return null;
    return parseStoredJson(consoleSessionSchema, await this.records.use(id));
  }

  async delete(id: string): Promise<void> {
    await this.records.delete(id);
  }
}
