// Appliance authentication: SSH username = serial, public key = the session's Ed25519 tunnel
// credential. Refused unless the key names a live, unexpired session for exactly that serial.
import type { PublicKeyAuthContext } from 'ssh2';
import { isAppError } from '../shared/errors.js';
import { publicKeyBlob } from '../shared/ssh-keys.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { refuse, sameBytes, signatureAcceptable, type AuthOutcome } from './public-key-check.js';

export interface ApplianceIdentity {
  kind: 'appliance';
  sid: string;
  serial: string;
  ports: readonly number[];
  expiresAt: number;
}

export interface ApplianceAuthDeps {
  sessions: SessionStore;
  /** Session look-up by raw tunnel key; the relay memoises it per connection (query, then signed attempt). */
  findSession?: (raw: Buffer) => Promise<SessionRecord | null>;
  now: () => number;
  /** Audit actor used when an expired session is found still live and closed here. */
  actor: string;
}

const ED25519_BLOB_LENGTH = 4 + 'ssh-ed25519'.length + 4 + 32;

/** The raw 32-byte key of a well-formed ssh-ed25519 public-key blob, else null. */
function rawEd25519(blob: Buffer): Buffer | null {
  if (blob.length !== ED25519_BLOB_LENGTH) return null;
  const raw = blob.subarray(blob.length - 32);
  return sameBytes(publicKeyBlob(raw), blob) ? raw : null;
}

export async function authenticateAppliance(
  ctx: PublicKeyAuthContext,
  deps: ApplianceAuthDeps,
): Promise<AuthOutcome<ApplianceIdentity>> {
  const serial = ctx.username;
  if (ctx.key.algo !== 'ssh-ed25519') return refuse(`appliance ${serial}: tunnel key must be ssh-ed25519, got ${ctx.key.algo}`);
  const raw = rawEd25519(ctx.key.data);
  if (!raw) return refuse(`appliance ${serial}: malformed ssh-ed25519 key blob`);
  const session = await (deps.findSession ?? ((r: Buffer) => deps.sessions.findByCredential(r)))(raw);
  if (!session) return refuse(`appliance ${serial}: no session for this tunnel key`);
  if (session.serial.toUpperCase() !== serial.toUpperCase()) {
    return refuse(`appliance ${serial}: tunnel key of session ${session.id} belongs to another serial`);
  }
  if (session.state === 'CLOSED') return refuse(`appliance ${serial}: session ${session.id} is closed (${session.reason ?? 'no reason'})`);
  const now = deps.now();
  if (now >= session.expiresAt) {
    try {
      await deps.sessions.close(session.id, 'expired', deps.actor, now);
    } catch (err) {
      if (!isAppError(err, 'session_closed')) throw err;
    }
    return refuse(`appliance ${serial}: session ${session.id} expired`);
  }
  if (!signatureAcceptable(ctx)) return refuse(`appliance ${serial}: signature does not verify`);
  return {
    kind: 'accept',
    identity: { kind: 'appliance', sid: session.id, serial: session.serial, ports: session.ports, expiresAt: session.expiresAt },
  };
}
