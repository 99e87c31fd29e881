// Reveals a live session's generated support password from custody, for the CLI and the operator
// API alike. Every reveal and every refusal is audited (`credential.revealed` /
// `credential.reveal_refused`, actor = the operator) before anything is shown; a closed session's
// password is destroyed, so there is nothing to reveal.
import { AppError } from '../errors.js';
import type { AuditLog } from '../store/audit.store.js';
import type { CredentialStore } from '../store/credential.store.js';
import type { EngineerDirectory } from '../store/engineer.store.js';
import type { SessionStore } from '../store/session.store.js';

export const SUPPORT_USER = 'kace_support' as const;

export interface RevealDeps {
  sessions: SessionStore;
  credentials: CredentialStore;
  audit: AuditLog;
  engineers: EngineerDirectory;
  now: () => number;
}

export interface RevealRequest {
  sid: string;
  /** The operator asking (audit `actor`). */
  actor: string;
  /** When given, the engineer who will use it: refused unless registered (the CLI's `--engineer`). */
  engineer?: string | undefined;
}

export async function revealPassword(deps: RevealDeps, req: RevealRequest): Promise<{ serial: string; user: typeof SUPPORT_USER; password: string }> {
  const { sid, actor, engineer } = req;
  const who: Record<string, string> = engineer === undefined ? { actor } : { actor, engineer };
  const refuse = async (why: string, err: AppError): Promise<never> => {
    await deps.audit.append('credential.reveal_refused', { sid, ...who, why }, deps.now());
    throw err;
  };
  if (engineer !== undefined && !(await deps.engineers.get(engineer))) {
    return refuse('engineer not registered', new AppError('engineer_not_authorised', `engineer "${engineer}" is not registered: only registered engineers may see support passwords`));
  }
  const session = await deps.sessions.require(sid);
  if (session.state === 'CLOSED') {
    // The audit bridge destroys it on close; doing it here too leaves no window.
    await deps.credentials.destroy(sid);
    return refuse('session closed', new AppError('credentials_unavailable', `session ${sid} is closed: its support password was destroyed`));
  }
  const password = await deps.credentials.reveal(sid);
  if (password === null) {
    return refuse('no password held', new AppError('credentials_unavailable', `no support password is held for session ${sid}: the customer chose it on the appliance, or it is no longer held`));
  }
  await deps.audit.append('credential.revealed', { sid, serial: session.serial, ...who }, deps.now());
  return { serial: session.serial, user: SUPPORT_USER, password };
}
