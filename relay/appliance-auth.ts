// Appliance authentication: SSH username = serial. A key's tunnel credential authenticates exactly
// once, and only as the first of two steps: proven, it earns a partial success, and the appliance
// must then present a key pair of its own, which the activation binds to the session atomically
// (ISSUED → CONNECTED). Every later login uses that appliance-held key alone. The key credential
// of a session that left ISSUED is refused as "key already used", whoever presents it.
import type { PublicKeyAuthContext } from 'ssh2';
import { isAppError } from '../shared/errors.js';
import type { RelayRefusal } from '../shared/relay-protocol.js';
import { publicKeyBlob } from '../shared/ssh-keys.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { sameBytes, signatureAcceptable } from './public-key-check.js';

export interface ApplianceIdentity {
  kind: 'appliance';
  sid: string;
  serial: string;
  ports: readonly number[];
  expiresAt: number;
  /** This login consumed the key (activation); otherwise it is a reconnect with the appliance key. */
  activated: boolean;
}

/**
 * `accept`: a signed attempt authenticates; a query is answered PK_OK.
 * `partial`: the key credential is proven (signed) or acceptable (query); the appliance key must follow.
 * `refuse`: `tell` is what the client is told (a banner); `reuse` marks an attempt to use a used key.
 */
export type ApplianceAuthOutcome =
  | { kind: 'accept'; identity: ApplianceIdentity }
  | { kind: 'partial' }
  | { kind: 'refuse'; reason: string; tell?: RelayRefusal; reuse?: { sid: string; serial: string } };

export interface ApplianceAuthDeps {
  sessions: SessionStore;
  relayId: string;
  now: () => number;
  /** Audit actor of the transitions made here (activation, closing an expired session). */
  actor: string;
  /** Waits until the activation is on the Redis replicas (the agent drops the spent credential once in). */
  replicated?: (() => Promise<void>) | undefined;
}

const ED25519_BLOB_LENGTH = 4 + 'ssh-ed25519'.length + 4 + 32;

/** The raw 32-byte key of a well-formed ssh-ed25519 public-key blob, else null. */
function rawEd25519(blob: Buffer): Buffer | null {
  if (blob.length !== ED25519_BLOB_LENGTH) return null;
  const raw = blob.subarray(blob.length - 32);
  return sameBytes(publicKeyBlob(raw), blob) ? raw : null;
}

function refuse(reason: string, tell?: RelayRefusal): ApplianceAuthOutcome {
  return tell ? { kind: 'refuse', reason, tell } : { kind: 'refuse', reason };
}

function identityOf(s: SessionRecord, activated: boolean): ApplianceIdentity {
  return { kind: 'appliance', sid: s.id, serial: s.serial, ports: s.ports, expiresAt: s.expiresAt, activated };
}

/** One connection's appliance login: remembers a proven key credential between the two steps. */
export class ApplianceLogin {
  /** The session whose key credential this connection proved (step one done). */
  private proven: SessionRecord | undefined;
  /** Clients ask "would you take this key?" before signing with it: one look-up serves both. */
  private lookup: { raw: Buffer; session: Promise<SessionRecord | null> } | undefined;

  constructor(private readonly deps: ApplianceAuthDeps) {}

  async decide(ctx: PublicKeyAuthContext): Promise<ApplianceAuthOutcome> {
    const serial = ctx.username;
    if (ctx.key.algo !== 'ssh-ed25519') return refuse(`appliance ${serial}: tunnel key must be ssh-ed25519, got ${ctx.key.algo}`);
    const raw = rawEd25519(ctx.key.data);
    if (!raw) return refuse(`appliance ${serial}: malformed ssh-ed25519 key blob`);
    if (!signatureAcceptable(ctx)) return refuse(`appliance ${serial}: signature does not verify`);
    if (this.proven) return this.bind(ctx, raw, this.proven);

    const session = await this.find(raw);
    if (!session) return refuse(`appliance ${serial}: no session for this tunnel key`);
    if (session.serial.toUpperCase() !== serial.toUpperCase()) {
      return refuse(`appliance ${serial}: tunnel key of session ${session.id} belongs to another serial`);
    }
    if (session.state === 'CLOSED') return refuse(`appliance ${serial}: session ${session.id} is closed (${session.reason ?? 'no reason'})`, 'sessionClosed');
    if (this.deps.now() >= session.expiresAt) return this.expire(session);

    if (sameBytes(raw, Buffer.from(session.tunnelPub, 'base64'))) {
      if (session.state !== 'ISSUED') return this.reused(session, `appliance ${serial}: key of session ${session.id} already used`);
      if (ctx.signature) this.proven = session;
      return { kind: 'partial' };
    }
    if (session.appliancePub && sameBytes(raw, Buffer.from(session.appliancePub, 'base64'))) {
      return { kind: 'accept', identity: identityOf(session, false) };
    }
    return refuse(`appliance ${serial}: no session for this tunnel key`);
  }

  /** Step two: the appliance's own key. A signed attempt activates the session and binds the key. */
  private async bind(ctx: PublicKeyAuthContext, raw: Buffer, session: SessionRecord): Promise<ApplianceAuthOutcome> {
    if (ctx.username.toUpperCase() !== session.serial.toUpperCase()) return refuse(`appliance ${ctx.username}: user name changed between the two steps`);
    if (sameBytes(raw, Buffer.from(session.tunnelPub, 'base64'))) return refuse(`appliance ${session.serial}: the appliance key must be a new key pair`);
    if (!ctx.signature) return { kind: 'accept', identity: identityOf(session, true) };
    try {
      await this.deps.sessions.activate(session.id, raw, { actor: this.deps.actor, relayId: this.deps.relayId, now: this.deps.now() });
    } catch (err) {
      this.proven = undefined;
      if (isAppError(err, 'key_already_used')) return this.reused(session, `appliance ${session.serial}: key of session ${session.id} was used by another machine first`);
      if (isAppError(err, 'session_closed')) return refuse(`appliance ${session.serial}: session ${session.id} closed during login`, 'sessionClosed');
      throw err;
    }
    await this.deps.replicated?.();
    return { kind: 'accept', identity: identityOf(session, true) };
  }

  private reused(session: SessionRecord, reason: string): ApplianceAuthOutcome {
    return { kind: 'refuse', reason, tell: 'keyAlreadyUsed', reuse: { sid: session.id, serial: session.serial } };
  }

  private async expire(session: SessionRecord): Promise<ApplianceAuthOutcome> {
    try {
      await this.deps.sessions.close(session.id, 'expired', this.deps.actor, this.deps.now());
    } catch (err) {
      if (!isAppError(err, 'session_closed')) throw err;
    }
    return refuse(`appliance ${session.serial}: session ${session.id} expired`, 'keyExpired');
  }

  private find(raw: Buffer): Promise<SessionRecord | null> {
    if (!this.lookup || !this.lookup.raw.equals(raw)) this.lookup = { raw, session: this.deps.sessions.findByCredential(raw) };
    return this.lookup.session;
  }
}
