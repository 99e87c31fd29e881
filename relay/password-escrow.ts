// The relay's side of password escrow (`escrow-password@tether`): taken only from the connection
// that holds its session's tunnel, refused unless the data is one well-formed box of bounded size,
// stored as it is (the relay holds no key that opens it) by one Lua step that also checks the
// session (live, minted for escrow, no other password held). The same box again is acknowledged
// and changes nothing; a different one is refused. Refusals are audited, a few per connection.
import type { Connection } from 'ssh2';
import { describeError } from '../shared/errors.js';
import { decodeEscrowRequest } from '../shared/key/password-escrow.js';
import type { Logger } from '../shared/logger.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import type { DepositOutcome, EscrowDepositStore } from '../shared/store/escrow-deposit.store.js';

export interface EscrowDeps {
  custody: EscrowDepositStore;
  audit: AuditLog;
  actor: string;
  now: () => number;
  logger: Logger;
}

export interface EscrowRequest {
  sid: string;
  serial: string;
  conn: Connection;
  /** This connection is the session's registered, live tunnel. */
  isTunnel: boolean;
  data: unknown;
  accept: (() => void) | undefined;
  reject: (() => void) | undefined;
}

/** Audited refusals per connection; later ones are only logged (an appliance cannot flood the audit). */
const AUDITED_REFUSALS = 3;
const refusals = new WeakMap<Connection, number>();

const REFUSAL: Record<Exclude<DepositOutcome, 'stored' | 'same'>, string> = {
  conflict: 'another password is already held for the session',
  closed: 'session is closed',
  unexpected: 'session was not issued for password escrow',
};

export async function onEscrow(req: EscrowRequest, deps: EscrowDeps | undefined): Promise<void> {
  const { sid, serial } = req;
  if (!deps) {
    req.reject?.();
    return;
  }
  const refuse = async (why: string): Promise<void> => {
    req.reject?.();
    deps.logger.info({ sid, serial, why }, 'password escrow refused');
    const n = (refusals.get(req.conn) ?? 0) + 1;
    refusals.set(req.conn, n);
    if (n > AUDITED_REFUSALS) return;
    await deps.audit.append('credential.escrow_refused', { sid, serial, why, actor: deps.actor }, deps.now()).catch((err: unknown) => deps.logger.error({ err: describeError(err) }, 'audit append failed'));
  };
  if (!req.isTunnel) return refuse("not from the session's tunnel");
  const decoded = decodeEscrowRequest(req.data);
  if (!decoded.ok) return refuse(decoded.why);
  let outcome: DepositOutcome;
  try {
    outcome = await deps.custody.deposit(sid, serial, decoded.box, deps.now());
  } catch (err) {
    // Not the appliance's fault: refused without audit, and the agent sends it again later.
    deps.logger.error({ err: describeError(err), sid }, 'password escrow could not be stored');
    req.reject?.();
    return;
  }
  if (outcome === 'stored' || outcome === 'same') {
    req.accept?.();
    if (outcome === 'same') return void deps.logger.info({ sid, serial }, 'password escrow repeated: acknowledged again');
    deps.logger.info({ sid, serial }, 'password escrowed');
    await deps.audit.append('credential.escrowed', { sid, serial, actor: deps.actor }, deps.now()).catch((err: unknown) => deps.logger.error({ err: describeError(err) }, 'audit append failed'));
    return;
  }
  return refuse(REFUSAL[outcome]);
}
