// Ends a tether locally, the same way whoever does it (daemon on disable or refusal, a command
// after a crash, enable undoing a refused start): remove the support account, delete the tunnel
// credential and a password escrow not yet sent, mark the key used when the relay has consumed it,
// record the state as closed.
import { AppError, describeError } from '../../shared/errors.js';
import { removeIfExists, type AgentPaths } from '../agent-home.js';
import { SUPPORT_USER, type AccountProvider } from '../accounts/account-provider.js';
import { removeEscrow } from '../escrow-file.js';
import { readTetherState, removePidFile, updateTetherState } from '../tether-state.js';
import { markKeyUsed } from '../used-keys.js';

export interface TeardownOptions {
  paths: AgentPaths;
  accounts: AccountProvider;
  /** Recorded as lastError (null after a clean disable; then a failed account removal is recorded instead). */
  reason: string | null;
  markUsed: boolean;
  /** The daemon's own pid: its pid file goes too. */
  pid?: number;
  now?: Date;
  log?: (message: string) => void;
}

/** Does every step even if one fails; throws account_failed at the end if the account stayed. */
export async function teardownTether(opts: TeardownOptions): Promise<void> {
  const now = opts.now ?? new Date();
  const state = readTetherState(opts.paths);
  let accountError: unknown;
  try {
    await opts.accounts.remove(SUPPORT_USER);
  } catch (err) {
    accountError = err;
    opts.log?.(`could not remove ${SUPPORT_USER}: ${describeError(err)}`);
  }
  removeIfExists(opts.paths.tunnelKey);
  removeIfExists(opts.paths.activationKey);
  removeEscrow(opts.paths);
  if (state && opts.markUsed) markKeyUsed(opts.paths, state.jti, now);
  const failure = accountError ? new AppError('account_failed', `tether stopped, but ${SUPPORT_USER} could not be removed: ${describeError(accountError)}`, { cause: accountError }) : undefined;
  // A clean disable records no error, unless the account stayed: status and the page must say so.
  if (state) updateTetherState(opts.paths, { state: 'closed', pid: null, lastError: opts.reason ?? failure?.message ?? null }, now);
  if (opts.pid !== undefined) removePidFile(opts.paths, opts.pid);
  if (failure) throw failure;
}
