// Sessions in Redis: creation, look-ups, atomic transitions (Lua over the pure transition table),
// expiry extension and batched heartbeats. Every write that changes state also appends to the
// audit stream and publishes on the events channel, inside the same script.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import { TRANSITIONS, type CloseReason, type SessionEvent, type SessionState, type TransitionOutcome } from '../session/session-machine.js';
import type { SessionRecord, TicketRef } from '../session/session.schema.js';
import { SESSION_AUDIT, transition } from '../session/lifecycle.js';
import { CREATE_LUA, EXTEND_LUA, TRANSITION_LUA } from './session-lua.js';
import { custodyRedisKey, redisKeys, type RedisKeys } from './redis-keys.js';
import { activationRefusal, foundSession, newSessionFields, readSessionRecord, type NewSession, type SessionStore, type TransitionOptions, type TransitionResult } from './session.store.js';

/** Credential indexes live until the latest possible expiry (12 weeks after issue) plus a week, so
 * an extended session keeps its index and late reconnects still get a clear reason. */
const CREDENTIAL_INDEX_SLACK_MS = 7 * 86_400_000;
const MAX_SESSION_MS = 12 * 7 * 86_400_000;
function credentialIndexTtlS(issuedAt: number, now: number): number {
  return Math.max(60, Math.ceil((issuedAt + MAX_SESSION_MS + CREDENTIAL_INDEX_SLACK_MS - now) / 1000));
}

/** Fingerprint used to index sessions by tunnel credential (hex SHA-256 of the raw key). */
export function credentialFingerprint(rawPub: Buffer): string {
  return createHash('sha256').update(rawPub).digest('hex');
}

type ScriptedRedis = Redis & {
  tetherTransition(...args: (string | number)[]): Promise<[string, string, string]>;
  tetherCreate(...args: (string | number)[]): Promise<string>;
  tetherExtend(...args: (string | number)[]): Promise<[string, string]>;
};

export class RedisSessionStore implements SessionStore {
  readonly keys: RedisKeys;
  private readonly redis: ScriptedRedis;

  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.prefix = prefix;
    this.keys = redisKeys(prefix);
    if (!('tetherExtend' in redis)) {
      redis.defineCommand('tetherTransition', { numberOfKeys: 6, lua: TRANSITION_LUA });
      redis.defineCommand('tetherCreate', { numberOfKeys: 6, lua: CREATE_LUA });
      redis.defineCommand('tetherExtend', { numberOfKeys: 3, lua: EXTEND_LUA });
    }
    this.redis = redis as ScriptedRedis;
  }

  async create(s: NewSession, actor: string): Promise<string | undefined> {
    const fields = newSessionFields(s);
    const credTtl = credentialIndexTtlS(s.issuedAt, s.issuedAt);
    const previous = await this.redis.tetherCreate(
      this.keys.session(s.id),
      this.keys.serial(s.serial),
      this.keys.credential(credentialFingerprint(s.tunnelPub)),
      this.keys.sessions,
      this.keys.audit,
      s.ticket ? this.keys.ticketSessions(s.ticket.system, s.ticket.id) : this.keys.session(s.id),
      s.id,
      s.issuedAt,
      actor,
      credTtl,
      this.keys.events,
      ...Object.entries(fields).flat(),
    );
    return previous || undefined;
  }

  async get(id: string): Promise<SessionRecord | null> {
    return readSessionRecord(id, await this.redis.hgetall(this.keys.session(id)));
  }

  async require(id: string): Promise<SessionRecord> {
    return foundSession(id, await this.get(id));
  }

  async findByCredential(rawPub: Buffer): Promise<SessionRecord | null> {
    const id = await this.redis.get(this.keys.credential(credentialFingerprint(rawPub)));
    return id ? this.get(id) : null;
  }

  async findLiveBySerial(serial: string): Promise<SessionRecord | null> {
    const id = await this.redis.get(this.keys.serial(serial));
    if (!id) return null;
    const s = await this.get(id);
    return s && s.state !== 'CLOSED' ? s : null;
  }

  async findLiveByTicket(ticket: TicketRef): Promise<SessionRecord[]> {
    const ids = await this.redis.smembers(this.keys.ticketSessions(ticket.system, ticket.id));
    const found = await Promise.all(ids.map((id) => this.get(id)));
    return found.filter((s): s is SessionRecord => s !== null && s.state !== 'CLOSED');
  }

  async list(limit = 500): Promise<SessionRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.sessions, 0, limit - 1);
    const out: SessionRecord[] = [];
    for (const id of ids) {
      const s = await this.get(id);
      if (s) out.push(s);
    }
    return out;
  }

  activate(id: string, appliancePub: Buffer, opts: TransitionOptions): Promise<TransitionResult> {
    return this.transition(id, 'activate', opts, appliancePub).catch((err: unknown) => Promise.reject(activationRefusal(id, err)));
  }

  apply(id: string, event: Exclude<SessionEvent, 'activate'>, opts: TransitionOptions): Promise<TransitionResult> {
    return this.transition(id, event, opts);
  }

  private async transition(id: string, event: SessionEvent, opts: TransitionOptions, bind?: Buffer): Promise<TransitionResult> {
    const rule = TRANSITIONS[event];
    // What each legal source state means (audit type, outcome), decided by the lifecycle core.
    const outcomes = Object.fromEntries(rule.from.map((f) => {
      const d = transition(f, event);
      return [f, { a: d.audit, o: d.outcome }];
    }));
    // One script call per transition; only a close touches the serial's index and the ticket's
    // sessions, whose names need the serial (the caller's, or read first) and the ticket (read first;
    // it never changes after issue).
    const closing = rule.to === 'CLOSED';
    const [storedSerial, storedTicket] = closing ? await this.redis.hmget(this.keys.session(id), 'serial', 'ticket') : [null, null];
    const serial = closing ? (opts.serial ?? storedSerial) : null;
    if (closing && !serial) throw new AppError('session_not_found', `no session ${id}`);
    const cut = storedTicket ? storedTicket.indexOf(':') : -1;
    const ticketIndex = cut > 0 ? this.keys.ticketSessions(storedTicket!.slice(0, cut), storedTicket!.slice(cut + 1)) : this.keys.session(id);
    const bindIndex = bind ? this.keys.credential(credentialFingerprint(bind)) : this.keys.session(id);
    const [status, from, outcome] = await this.redis.tetherTransition(
      this.keys.session(id),
      this.keys.audit,
      this.keys.lastSeen,
      serial ? this.keys.serial(serial) : this.keys.session(id),
      bindIndex,
      ticketIndex,
      JSON.stringify(outcomes),
      rule.to,
      opts.now,
      this.keys.events,
      opts.actor,
      opts.reason ?? '',
      opts.relayId ?? '',
      id,
      event,
      bind ? bind.toString('base64') : '',
      MAX_SESSION_MS + CREDENTIAL_INDEX_SLACK_MS,
      opts.expiresAt === undefined ? '' : String(opts.expiresAt),
    );
    if (status === 'missing') throw new AppError('session_not_found', `no session ${id}`);
    if (status === 'moved') throw new AppError('session_expiry_moved', `session ${id} no longer expires at ${opts.expiresAt} (extended since it was read): left as it is`);
    if (status === 'illegal') {
      if (from === 'CLOSED') throw new AppError('session_closed', `session ${id} is closed`);
      throw new AppError('illegal_transition', `cannot ${event} session ${id} in state ${from}`);
    }
    return { from: from as SessionState, to: rule.to, outcome: outcome as TransitionOutcome };
  }

  close(id: string, reason: CloseReason, actor: string, now: number, serial?: string): Promise<TransitionResult> {
    return this.apply(id, 'close', { actor, reason, now, ...(serial ? { serial } : {}) });
  }

  async extend(id: string, expiresAt: number, actor: string, now: number): Promise<SessionRecord> {
    const s = await this.require(id);
    const [status] = await this.redis.tetherExtend(this.keys.session(id), this.keys.audit, custodyRedisKey(this.prefix, id), expiresAt, now, actor, this.keys.events, id, SESSION_AUDIT.extended);
    if (status === 'missing') throw new AppError('session_not_found', `no session ${id}`);
    if (status === 'closed') throw new AppError('session_closed', `session ${id} is closed`);
    return { ...s, expiresAt };
  }

  async touch(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    const args: (string | number)[] = [];
    for (const id of ids) args.push(now, id);
    // XX: never resurrect a session that was closed or marked LOST meanwhile.
    await this.redis.zadd(this.keys.lastSeen, 'XX', ...args);
  }

  /** By score range: the cost grows with the stale sessions only. */
  stale(before: number, limit = 1000): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.lastSeen, '-inf', `(${before}`, 'LIMIT', 0, limit);
  }
}
