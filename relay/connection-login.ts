// One connection's login: public-key auth only, as an engineer (a registered name) or an appliance
// (any other name is a serial). Refusals are logged, reused keys audited, and the client told why
// in a banner where the words help it (used key, closed session, service unavailable). A decision
// that Redis cannot make within AUTH_DECISION_MS drops the connection with "service unavailable":
// an agent retries a drop, where a refusal would make it stop for good.
import type { AuthContext, Connection, PublicKeyAuthContext } from 'ssh2';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { AuthFailureReason, AuthKind, RelayMeter } from '../shared/metrics.js';
import { refusalBanner, type RelayRefusal } from '../shared/relay-protocol.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import { engineerNameSchema, type EngineerDirectory } from '../shared/store/engineer.store.js';
import { ApplianceLogin, type ApplianceAuthDeps, type ApplianceAuthOutcome, type ApplianceIdentity } from './appliance-auth.js';
import { authenticateEngineer, type EngineerIdentity } from './engineer-auth.js';
import { sendAuthBanner } from './ssh2-internals.js';

export type Identity = EngineerIdentity | ApplianceIdentity;

export interface LoginDeps extends ApplianceAuthDeps {
  engineers: EngineerDirectory;
  audit: AuditLog;
  logger: Logger;
  metrics?: Pick<RelayMeter, 'authFailure'> | undefined;
}

/** The metric's fixed reason words; a refusal without a banner is a key the relay did not accept. */
const FAILURE_REASON: Record<RelayRefusal, AuthFailureReason> = {
  keyAlreadyUsed: 'key_already_used',
  sessionClosed: 'session_closed',
  keyExpired: 'key_expired',
  unavailable: 'unavailable',
};

/** Refused authentication attempts tolerated per connection before it is dropped. */
const MAX_AUTH_REFUSALS = 10;
/** A login decision waits this long for Redis, then the client hears "service unavailable". */
export const AUTH_DECISION_MS = 5_000;

class DecisionTimeout extends Error {}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DecisionTimeout()), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Wires the login of `conn`; `onIdentity` is called once, just before ssh2 emits 'ready'. */
export function handleLogin(conn: Connection, ip: string, deps: LoginDeps, onIdentity: (id: Identity) => void): void {
  let appliance: ApplianceLogin | undefined;
  let refusals = 0;
  let reuseAudited = false;
  let accepted = false;
  /** The last refusal: counted once, if the connection ends without authenticating. */
  let failure: { kind: AuthKind; reason: AuthFailureReason } | undefined;
  let kind: AuthKind = 'appliance';

  const decide = async (ctx: PublicKeyAuthContext): Promise<ApplianceAuthOutcome | { kind: 'accept'; identity: EngineerIdentity }> => {
    // Serials that cannot be engineer names (upper case, usually) skip the registry round trip.
    const named = engineerNameSchema.safeParse(ctx.username).success;
    kind = named ? 'engineer' : 'appliance'; // until the registry answers
    const engineer = named ? await deps.engineers.get(ctx.username) : null;
    if (engineer) return authenticateEngineer(ctx, engineer, deps.now());
    kind = 'appliance';
    appliance ??= new ApplianceLogin(deps);
    return appliance.decide(ctx);
  };

  const onPublicKey = async (ctx: PublicKeyAuthContext): Promise<void> => {
    let outcome;
    try {
      outcome = await withDeadline(decide(ctx), AUTH_DECISION_MS);
    } catch (err) {
      // Not a refusal: an agent reads an auth failure as "key no longer valid" and stops for good.
      const slow = err instanceof DecisionTimeout;
      deps.logger.error({ err: slow ? 'no answer from Redis' : describeError(err), user: ctx.username, ip }, 'authentication failed on an internal error; dropping the connection');
      sendAuthBanner(conn, refusalBanner('unavailable'));
      failure = { kind, reason: 'unavailable' };
      conn.end();
      return;
    }
    switch (outcome.kind) {
      case 'accept':
        // The identity must be set before accept(): ssh2 emits 'ready' synchronously inside it.
        if (ctx.signature) {
          accepted = true;
          onIdentity(outcome.identity);
        }
        return ctx.accept();
      case 'partial':
        // A query is answered PK_OK; the proven credential asks for the next key.
        return ctx.signature ? ctx.reject(['publickey'], true) : ctx.accept();
      case 'refuse':
        deps.logger.info({ user: ctx.username, ip, reason: outcome.reason }, 'authentication refused');
        failure = { kind, reason: outcome.tell ? FAILURE_REASON[outcome.tell] : 'key_refused' };
        if (outcome.reuse && !reuseAudited) {
          reuseAudited = true;
          void deps.audit
            .append('key.reuse_refused', { sid: outcome.reuse.sid, serial: outcome.reuse.serial, ip, reason: 'key already used', actor: deps.actor }, deps.now())
            .catch((e: unknown) => deps.logger.error({ err: e }, 'audit append failed'));
        }
        if (outcome.tell) sendAuthBanner(conn, refusalBanner(outcome.tell));
        ctx.reject(['publickey']);
        if (++refusals >= MAX_AUTH_REFUSALS) conn.end();
    }
  };

  conn.once('close', () => {
    if (!accepted && failure) deps.metrics?.authFailure(failure.kind, failure.reason);
  });
  conn.on('authentication', (ctx: AuthContext) => {
    if (ctx.method === 'publickey') return void onPublicKey(ctx);
    // 'none' (OpenSSH's opening probe), password, keyboard-interactive, hostbased: refused.
    ctx.reject(['publickey']);
  });
}
