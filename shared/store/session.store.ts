// What every session store does: sessions created, looked up and moved through the state machine,
// each change audited and announced on the events channel. Which transitions are legal and what
// each means (audit type, outcome) is the lifecycle core's (session/lifecycle.ts); implementations
// only make each step atomic: redis-session.store.ts (Lua), memory/memory-session.store.ts (tests).
import type { CloseReason, SessionEvent, SessionState, TransitionOutcome } from '../session/session-machine.js';
import { AppError, isAppError } from '../errors.js';
import { sessionRecordSchema, type SessionRecord, type TicketRef } from '../session/session.schema.js';

export interface NewSession {
  id: string;
  jti: string;
  serial: string;
  product: 'sma' | 'sda';
  version?: string | undefined;
  ports: readonly number[];
  tunnelPub: Buffer;
  issuedAt: number;
  expiresAt: number;
  ticket?: TicketRef | undefined;
  /** The ticket's subject (untrusted text, kept for the console; cut to TICKET_SUBJECT_MAX characters). */
  ticketSubject?: string | undefined;
  email?: string | undefined;
  /**
   * The appliance will escrow the support password it generates. Stored as the hash field `pwEscrow`
   * ('1'), read only by the escrow deposit script (escrow-deposit.store.ts).
   */
  passwordEscrow?: boolean | undefined;
}

export interface TransitionResult {
  from: SessionState;
  to: SessionState;
  outcome: TransitionOutcome;
}

export interface TransitionOptions {
  actor: string;
  reason?: CloseReason;
  relayId?: string;
  now: number;
  /** The session's serial, when the caller holds its record: a close then needs no read before its step. */
  serial?: string;
  /**
   * Only while the session still expires at this time (the caller's read): an extension landing
   * between that read and this step leaves the session as it is (`session_expiry_moved`).
   */
  expiresAt?: number;
}

/** Longest ticket subject kept on a session (the ticket-event schema's own limit). */
export const TICKET_SUBJECT_MAX = 1_000;

/** A new session's record as the flat text fields `sessionRecordSchema` reads back (every store keeps this shape). */
export function newSessionFields(s: NewSession): Record<string, string> {
  return {
    id: s.id,
    jti: s.jti,
    serial: s.serial,
    product: s.product,
    version: s.version ?? '',
    state: 'ISSUED',
    ports: s.ports.join(','),
    tunnelPub: s.tunnelPub.toString('base64'),
    issuedAt: String(s.issuedAt),
    expiresAt: String(s.expiresAt),
    ticket: s.ticket ? `${s.ticket.system}:${s.ticket.id}` : '',
    ticketSubject: s.ticket && s.ticketSubject ? s.ticketSubject.slice(0, TICKET_SUBJECT_MAX) : '',
    email: s.email ?? '',
    pwEscrow: s.passwordEscrow ? '1' : '',
  };
}

/** A stored record (flat text fields) read back: null when there is none; unreadable data is an internal error. */
export function readSessionRecord(id: string, raw: Record<string, string> | undefined): SessionRecord | null {
  if (!raw?.id) return null;
  const parsed = sessionRecordSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('internal', `session ${id} record is unreadable`);
  return parsed.data;
}

/** An activation refused because the session already left ISSUED: its key was used, by this machine or another. */
export function activationRefusal(id: string, err: unknown): unknown {
  return isAppError(err, 'illegal_transition') ? new AppError('key_already_used', `key of session ${id} already used`) : err;
}

/** `s`, or session_not_found. */
export function foundSession(id: string, s: SessionRecord | null): SessionRecord {
  if (!s) throw new AppError('session_not_found', `no session ${id}`);
  return s;
}

export interface SessionStore {
  /**
   * Stores a new ISSUED session and makes it its serial's current one (audited as `session.issued`,
   * announced); returns the id of the live session it displaced, if any.
   */
  create(s: NewSession, actor: string): Promise<string | undefined>;
  get(id: string): Promise<SessionRecord | null>;
  /** Like get; throws session_not_found. */
  require(id: string): Promise<SessionRecord>;
  /** The session whose key credential or bound appliance key is `rawPub` (compare to tell which). */
  findByCredential(rawPub: Buffer): Promise<SessionRecord | null>;
  /** The serial's current live session (serials compare case-insensitively). */
  findLiveBySerial(serial: string): Promise<SessionRecord | null>;
  /**
   * Every live session issued for the ticket, whatever serial it was issued for (the serial field of
   * a ticket may be edited after issue).
   */
  findLiveByTicket(ticket: TicketRef): Promise<SessionRecord[]>;
  /** Newest first. */
  list(limit?: number): Promise<SessionRecord[]>;
  /**
   * First login of the key's tunnel credential: ISSUED → CONNECTED and the appliance-held key bound,
   * in one atomic step. Of several machines racing one key exactly one wins; the others get
   * key_already_used and the winner's session is untouched.
   */
  activate(id: string, appliancePub: Buffer, opts: TransitionOptions): Promise<TransitionResult>;
  /** Applies an event atomically; throws session_not_found / session_closed / illegal_transition. */
  apply(id: string, event: Exclude<SessionEvent, 'activate'>, opts: TransitionOptions): Promise<TransitionResult>;
  close(id: string, reason: CloseReason, actor: string, now: number, serial?: string): Promise<TransitionResult>;
  /**
   * Moves the expiry of a live session (audited, and announced so the relay holding its tunnel tells
   * the agent); throws session_closed for a closed one. The caller enforces the 12-week cap.
   */
  extend(id: string, expiresAt: number, actor: string, now: number): Promise<SessionRecord>;
  /** Records heartbeats of live sessions (relays call this in batches); never revives a LOST or CLOSED one. */
  touch(ids: readonly string[], now: number): Promise<void>;
  /** Live sessions whose last heartbeat is older than `before`. */
  stale(before: number, limit?: number): Promise<string[]>;
}
