// Disabling when no process holds the tether (the daemon or the service crashed, or never ran):
// connect once to cancel the forwards so the relay closes the session, best effort, and make sure
// no account, credential or stale pid file is left behind. Used by `ktether disable` and the service.
import { existsSync, readFileSync } from 'node:fs';
import { describeError } from '../../shared/errors.js';
import { forwardTarget, type AgentConfig } from '../agent-config.js';
import { removeIfExists, type AgentPaths } from '../agent-home.js';
import { SUPPORT_USER, type AccountProvider } from '../accounts/account-provider.js';
import { readTetherState, type TetherState } from '../tether-state.js';
import { cancelSessionOnce } from '../tunnel/cancel-once.js';

const CANCEL_TIMEOUT_MS = 5_000;

export async function cancelWithoutDaemon(paths: AgentPaths, config: AgentConfig, state: TetherState, say: (message: string) => void): Promise<void> {
  const forwards = state.ports.flatMap((port) => {
    const target = forwardTarget(config, port);
    return target ? [{ port, target }] : [];
  });
  try {
    const cancelled = await cancelSessionOnce({
      relay: state.relay,
      username: config.serial,
      privateKey: readFileSync(paths.tunnelKey, 'utf8'),
      activationKey: existsSync(paths.activationKey) ? readFileSync(paths.activationKey, 'utf8') : undefined,
      forwards,
      timeoutMs: CANCEL_TIMEOUT_MS,
    });
    if (!cancelled) say('the relay did not confirm the cancel; the session ends at its expiry or revocation');
  } catch (err) {
    say(`could not tell the relay (${describeError(err)}); the session ends at its expiry or revocation`);
  }
}

/** An unreadable state file (damaged, or from another version) must not block disabling. */
export function readStateOrDiscard(paths: AgentPaths): TetherState | undefined {
  try {
    return readTetherState(paths);
  } catch {
    removeIfExists(paths.stateFile);
    return undefined;
  }
}

/** Nothing live: still make sure no account, credential or stale pid file is left behind. */
export async function removeLeftovers(paths: AgentPaths, accounts: AccountProvider, stale: boolean): Promise<void> {
  await accounts.remove(SUPPORT_USER);
  removeIfExists(paths.tunnelKey);
  removeIfExists(paths.activationKey);
  if (stale) removeIfExists(paths.pidFile);
}
