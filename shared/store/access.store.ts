// Who may reach which session: explicit grants per session (`tether session grant`), the ticket's
// assignee (the help desk's assignee mapped to a registered engineer), and the mapping from help
// desk identities (e-mail or login, per help desk) to engineers. The relay asks `allowed()` on
// every channel open when TETHER_ENGINEER_POLICY is `assigned`. Grant changes are audited; a
// withdrawn grant is announced so relays end that engineer's open channels to the session.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { SessionRecord, TicketRef } from '../session/session.schema.js';
import { engineerNameSchema } from './engineer.store.js';
import { redisKeys, type RedisKeys } from './redis-keys.js';

/** How engineers not named on a session are treated: refused (`assigned`) or let in (`all`). */
export const ENGINEER_POLICIES = ['assigned', 'all'] as const;
export type EngineerPolicy = (typeof ENGINEER_POLICIES)[number];

const grantSchema = z.object({ by: z.string(), at: z.number() });
export type Grant = z.infer<typeof grantSchema> & { engineer: string };

/** A grant lives at most as long as any session can (12 weeks) plus a week. */
const GRANT_TTL_S = 13 * 7 * 86_400;

/**
 * The withdrawal, its audit entry and its announcement in one step (a crash between them would
 * lose the record, or leave relays unaware). KEYS: grants hash, audit stream, engineer events
 * channel. ARGV: engineer, sid, serial, actor, now ms, announcement JSON. Returns 1, or 0 without a grant.
 */
const REVOKE_GRANT_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'type', 'session.grant_revoked', 'sid', ARGV[2], 'serial', ARGV[3], 'engineer', ARGV[1], 'actor', ARGV[4], 'at', ARGV[5])
redis.call('PUBLISH', KEYS[3], ARGV[6])
return 1`;

/** `zendesk:alice@vendor.example` → the same text lower-cased (help desks compare e-mails and logins case-insensitively). */
export function helpDeskIdentity(system: string, id: string): string {
  const text = `${system}:${id}`.trim().toLowerCase();
  if (!/^[a-z0-9_-]{1,32}:[^\s:][^\s]{0,253}$/.test(text)) throw new AppError('usage', `help desk identity "${system}:${id}" must look like SYSTEM:EMAIL-OR-LOGIN`);
  return text;
}

export class AccessStore {
  private readonly keys: RedisKeys;

  constructor(private readonly redis: Redis, prefix: string) {
    this.keys = redisKeys(prefix);
  }

  /** Lets `engineer` reach session `sid` (idempotent), audited with the actor. */
  async grant(session: Pick<SessionRecord, 'id' | 'serial'>, engineer: string, actor: string, now: number): Promise<void> {
    engineerNameSchema.parse(engineer);
    await this.redis
      .multi()
      .hset(this.keys.grants(session.id), engineer, JSON.stringify({ by: actor, at: now }))
      .expire(this.keys.grants(session.id), GRANT_TTL_S)
      .xadd(this.keys.audit, '*', 'type', 'session.granted', 'sid', session.id, 'serial', session.serial, 'engineer', engineer, 'actor', actor, 'at', String(now))
      .exec();
  }

  /** Withdraws an explicit grant; relays end the engineer's open channels to the session. False if there was none. */
  async revokeGrant(session: Pick<SessionRecord, 'id' | 'serial'>, engineer: string, actor: string, now: number): Promise<boolean> {
    const announcement = JSON.stringify({ engineer, sid: session.id });
    const removed = await this.redis.eval(REVOKE_GRANT_LUA, 3, this.keys.grants(session.id), this.keys.audit, this.keys.engineerEvents, engineer, session.id, session.serial, actor, String(now), announcement);
    return removed === 1;
  }

  async grants(sid: string): Promise<Grant[]> {
    const raw = await this.redis.hgetall(this.keys.grants(sid));
    return Object.entries(raw).flatMap(([engineer, v]) => {
      const parsed = grantSchema.safeParse(JSON.parse(v));
      return parsed.success ? [{ engineer, ...parsed.data }] : [];
    });
  }

  /** Records the engineer a ticket is assigned to (null: unassigned or not mapped); a change is audited and relays re-check the previous assignee's channels. */
  async setAssignee(ticket: TicketRef, engineer: string | null, actor: string, now: number): Promise<void> {
    const key = this.keys.ticketAssignee(ticket.system, ticket.id);
    const before = await this.redis.get(key);
    if (before === engineer) return;
    const m = this.redis.multi();
    if (engineer) m.set(key, engineer, 'EX', GRANT_TTL_S);
    else m.del(key);
    m.xadd(this.keys.audit, '*', 'type', 'ticket.assignee_changed', 'ticket', `${ticket.system}:${ticket.id}`, 'engineer', engineer ?? '', 'previous', before ?? '', 'actor', actor, 'at', String(now));
    // The previous assignee's open channels to the ticket's sessions end, unless a grant or the policy still lets them in.
    if (before) m.publish(this.keys.engineerEvents, JSON.stringify({ engineer: before, ticket: `${ticket.system}:${ticket.id}` }));
    await m.exec();
  }

  /** Maps the help desk's assignee to a registered engineer (by e-mail, then login) and records it. */
  async assignFromTicket(ticket: TicketRef, assignee: { email?: string | undefined; login?: string | undefined } | null, actor: string, now: number): Promise<string | null> {
    const ids: string[] = [];
    for (const id of [assignee?.email, assignee?.login]) {
      if (!id) continue;
      try {
        ids.push(helpDeskIdentity(ticket.system, id));
      } catch {
        // An identity we cannot map is an unmapped one.
      }
    }
    const engineer = await this.engineerFor(ids);
    await this.setAssignee(ticket, engineer, actor, now);
    return engineer;
  }

  async assignee(ticket: TicketRef): Promise<string | null> {
    return this.redis.get(this.keys.ticketAssignee(ticket.system, ticket.id));
  }

  /** Maps a help desk identity (e-mail or login) to a registered engineer. */
  async mapIdentity(identity: string, engineer: string): Promise<void> {
    engineerNameSchema.parse(engineer);
    await this.redis.hset(this.keys.engineerIdentities, identity, engineer);
  }

  async unmapIdentity(identity: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.engineerIdentities, identity)) === 1;
  }

  /** The engineer behind the first of `ids` (`system:email-or-login`) that is mapped, or null. */
  async engineerFor(ids: readonly string[]): Promise<string | null> {
    if (ids.length === 0) return null;
    const found = await this.redis.hmget(this.keys.engineerIdentities, ...ids);
    return found.find((v): v is string => Boolean(v)) ?? null;
  }

  async identities(): Promise<{ identity: string; engineer: string }[]> {
    const all = await this.redis.hgetall(this.keys.engineerIdentities);
    return Object.entries(all).map(([identity, engineer]) => ({ identity, engineer }));
  }

  /** Why `engineer` may reach `session` ('granted' | 'assignee' | 'policy'), or null when not. One round trip. */
  async allowed(session: Pick<SessionRecord, 'id' | 'ticket'>, engineer: string, policy: EngineerPolicy): Promise<'granted' | 'assignee' | 'policy' | null> {
    if (policy === 'all') return 'policy';
    const [granted, assignee] = await Promise.all([
      this.redis.hexists(this.keys.grants(session.id), engineer),
      session.ticket ? this.redis.get(this.keys.ticketAssignee(session.ticket.system, session.ticket.id)) : Promise.resolve(null),
    ]);
    if (granted === 1) return 'granted';
    if (assignee === engineer) return 'assignee';
    return null;
  }
}
