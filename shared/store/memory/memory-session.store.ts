// Sessions in memory, for fast unit tests of the relay's rules and the workers' reactions (not for
// production: one process, no persistence, index TTLs not modelled). The same rules as the Redis
// store: every transition decided by the lifecycle core (legal source states, next state, audit
// type, outcome), the appliance key bound by the single activation, each change appended to the
// audit log and announced to in-process listeners (the message the Redis store publishes).
import { AppError } from '../../errors.js';
import { SESSION_AUDIT, transition } from '../../session/lifecycle.js';
import type { CloseReason, SessionEvent } from '../../session/session-machine.js';
import type { SessionRecord, TicketRef } from '../../session/session.schema.js';
import type { AuditLog } from '../audit.store.js';
import type { SessionEventMessage } from '../session-events.js';
import { activationRefusal, foundSession, newSessionFields, readSessionRecord, type NewSession, type SessionStore, type TransitionOptions, type TransitionResult } from '../session.store.js';

export type SessionEventListener = (ev: SessionEventMessage) => void;

export class MemorySessionStore implements SessionStore {
  /** Records as the flat text fields the Redis hash holds, parsed on every read like Redis data. */
  private readonly records = new Map<string, Record<string, string>>();
  private readonly bySerial = new Map<string, string>();
  /** Session id by base64 raw public key: the key's tunnel credential and the bound appliance key. */
  private readonly byCredential = new Map<string, string>();
  private readonly lastSeen = new Map<string, number>();
  private readonly listeners = new Set<SessionEventListener>();

  /** `audit`: where transitions are appended (share it with the code under test). */
  constructor(private readonly audit: AuditLog) {}

  /** Calls `listener` with every event, synchronously after the step that made it; returns the unsubscribe. */
  subscribe(listener: SessionEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async create(s: NewSession, actor: string): Promise<string | undefined> {
    if (this.records.has(s.id)) throw new AppError('internal', `session ${s.id} exists`);
    const fields = newSessionFields(s);
    const previous = this.bySerial.get(s.serial.toUpperCase());
    this.records.set(s.id, fields);
    this.bySerial.set(s.serial.toUpperCase(), s.id);
    this.byCredential.set(s.tunnelPub.toString('base64'), s.id);
    const appended = this.audit.append(SESSION_AUDIT.issued, { sid: s.id, serial: s.serial, actor }, s.issuedAt);
    this.publish({ sid: s.id, serial: s.serial, to: 'ISSUED', outcome: 'issued', at: s.issuedAt });
    await appended;
    return previous;
  }

  async get(id: string): Promise<SessionRecord | null> {
    return readSessionRecord(id, this.records.get(id));
  }

  async require(id: string): Promise<SessionRecord> {
    return foundSession(id, await this.get(id));
  }

  async findByCredential(rawPub: Buffer): Promise<SessionRecord | null> {
    const id = this.byCredential.get(rawPub.toString('base64'));
    return id ? this.get(id) : null;
  }

  async findLiveBySerial(serial: string): Promise<SessionRecord | null> {
    const id = this.bySerial.get(serial.toUpperCase());
    const s = id ? await this.get(id) : null;
    return s && s.state !== 'CLOSED' ? s : null;
  }

  async findLiveByTicket(ticket: TicketRef): Promise<SessionRecord[]> {
    const ref = `${ticket.system}:${ticket.id}`;
    const ids = [...this.records.values()].filter((r) => r.ticket === ref).map((r) => r.id!);
    return (await Promise.all(ids.map((id) => this.require(id)))).filter((s) => s.state !== 'CLOSED');
  }

  async list(limit = 500): Promise<SessionRecord[]> {
    const newest = [...this.records.values()].sort((a, b) => Number(b.issuedAt) - Number(a.issuedAt) || (b.id! < a.id! ? -1 : 1));
    return Promise.all(newest.slice(0, limit).map((r) => this.require(r.id!)));
  }

  activate(id: string, appliancePub: Buffer, opts: TransitionOptions): Promise<TransitionResult> {
    return this.transition(id, 'activate', opts, appliancePub).catch((err: unknown) => Promise.reject(activationRefusal(id, err)));
  }

  apply(id: string, event: Exclude<SessionEvent, 'activate'>, opts: TransitionOptions): Promise<TransitionResult> {
    return this.transition(id, event, opts);
  }

  close(id: string, reason: CloseReason, actor: string, now: number, serial?: string): Promise<TransitionResult> {
    return this.apply(id, 'close', { actor, reason, now, ...(serial ? { serial } : {}) });
  }

  /** One synchronous step (nothing interleaves before the audit and the event), like the Redis script. */
  private async transition(id: string, event: SessionEvent, opts: TransitionOptions, bind?: Buffer): Promise<TransitionResult> {
    const r = this.records.get(id);
    if (!r) throw new AppError('session_not_found', `no session ${id}`);
    const from = r.state as SessionRecord['state'];
    if (opts.expiresAt !== undefined && from !== 'CLOSED' && Number(r.expiresAt) !== opts.expiresAt) {
      throw new AppError('session_expiry_moved', `session ${id} no longer expires at ${opts.expiresAt} (extended since it was read): left as it is`);
    }
    const step = transition(from, event); // throws session_closed / illegal_transition
    const now = String(opts.now);
    Object.assign(r, { state: step.next, updatedAt: now });
    if (step.next === 'CONNECTED') {
      Object.assign(r, { connectedAt: now, relayId: opts.relayId ?? '' });
      if (from === 'ISSUED') r.activatedAt = now;
      if (bind) {
        r.appliancePub = bind.toString('base64');
        this.byCredential.set(r.appliancePub, id);
      }
      this.lastSeen.set(id, opts.now);
    } else if (step.next === 'LOST') {
      this.lastSeen.delete(id);
    } else if (step.next === 'CLOSED') {
      Object.assign(r, { reason: opts.reason ?? '', closedAt: now });
      this.lastSeen.delete(id);
      if (this.bySerial.get(r.serial!.toUpperCase()) === id) this.bySerial.delete(r.serial!.toUpperCase());
    }
    const serial = r.serial!;
    const appended = this.audit.append(step.audit, { sid: id, serial, actor: opts.actor, from, to: step.next, reason: opts.reason ?? '' }, opts.now);
    this.publish({
      sid: id,
      serial,
      from,
      to: step.next,
      outcome: step.outcome,
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(opts.relayId ? { relay: opts.relayId } : {}),
      at: opts.now,
    });
    await appended;
    return { from, to: step.next, outcome: step.outcome };
  }

  async extend(id: string, expiresAt: number, actor: string, now: number): Promise<SessionRecord> {
    const s = await this.require(id);
    const r = this.records.get(id)!;
    if (r.state === 'CLOSED') throw new AppError('session_closed', `session ${id} is closed`);
    Object.assign(r, { expiresAt: String(expiresAt), updatedAt: String(now) });
    const appended = this.audit.append(SESSION_AUDIT.extended, { sid: id, serial: s.serial, actor, expiresAt }, now);
    this.publish({ sid: id, serial: s.serial, from: s.state, to: s.state, outcome: 'extended', expiresAt, at: now });
    await appended;
    return { ...s, expiresAt };
  }

  async touch(ids: readonly string[], now: number): Promise<void> {
    for (const id of ids) if (this.lastSeen.has(id)) this.lastSeen.set(id, now);
  }

  async stale(before: number, limit = 1000): Promise<string[]> {
    return [...this.lastSeen]
      .filter(([, at]) => at < before)
      .sort(([a, at], [b, bt]) => at - bt || (a < b ? -1 : 1))
      .slice(0, limit)
      .map(([id]) => id);
  }

  private publish(ev: SessionEventMessage): void {
    for (const listener of this.listeners) listener(ev);
  }
}
