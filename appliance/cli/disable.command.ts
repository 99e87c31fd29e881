// `ktether disable`: ends the tether. With a daemon: SIGTERM and wait for it to cancel its forwards
// and clean up. Without one (it crashed): connect once to cancel the forwards, best effort, then
// clean up the same way. Always ends with the tether disabled locally.
import { existsSync, readFileSync } from 'node:fs';
import { describeError } from '../../shared/errors.js';
import { forwardTarget, loadAgentConfig, type AgentConfig } from '../agent-config.js';
import { removeIfExists, type AgentPaths } from '../agent-home.js';
import { SUPPORT_USER, type AccountProvider } from '../accounts/account-provider.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { teardownTether } from '../daemon/teardown.js';
import { UNCLEAN_SHUTDOWN_LINE } from '../log-line.js';
import { daemonStatus, isTetherLive, readTetherState, type TetherState } from '../tether-state.js';
import { cancelSessionOnce } from '../tunnel/cancel-once.js';
import { homePaths, parseOptions, say, type CliContext } from './cli-context.js';
import { stopDaemon } from './daemon-start.js';

const CANCEL_TIMEOUT_MS = 5_000;

export async function disableCommand(args: string[], ctx: CliContext): Promise<number> {
  parseOptions(args, {});
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const accounts = accountProviderFor(config.accounts, paths, ctx.runner);
  const daemon = daemonStatus(paths);
  say(ctx, 'Stopping.');
  if (daemon.running && daemon.pid !== undefined) {
    await stopDaemon(daemon.pid);
  } else if (daemon.stale) {
    ctx.out(UNCLEAN_SHUTDOWN_LINE);
  }
  // Whatever the daemon did not finish (it crashed, or never ran) is done here.
  const state = readStateOrDiscard(paths);
  if (isTetherLive(paths, state)) {
    await cancelWithoutDaemon(paths, config, state, ctx);
    await teardownTether({ paths, accounts, reason: null, markUsed: true, now: ctx.now(), ...(daemon.pid !== undefined ? { pid: daemon.pid } : {}) });
  } else {
    await removeLeftovers(paths, accounts, daemon.stale);
    if (!daemon.running) {
      // Nothing was enabled: say so rather than claim a disable (leftovers, if any, are gone).
      say(ctx, 'No tether is enabled: nothing to disable.');
      return 0;
    }
  }
  say(ctx, 'Tether disabled.');
  return 0;
}

async function cancelWithoutDaemon(paths: AgentPaths, config: AgentConfig, state: TetherState, ctx: CliContext): Promise<void> {
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
    if (!cancelled) say(ctx, 'the relay did not confirm the cancel; the session ends at its expiry or revocation');
  } catch (err) {
    say(ctx, `could not tell the relay (${describeError(err)}); the session ends at its expiry or revocation`);
  }
}

/** An unreadable state file (damaged, or from another version) must not block disabling. */
function readStateOrDiscard(paths: AgentPaths): TetherState | undefined {
  try {
    return readTetherState(paths);
  } catch {
    removeIfExists(paths.stateFile);
    return undefined;
  }
}

/** Nothing live: still make sure no account, credential or stale pid file is left behind. */
async function removeLeftovers(paths: AgentPaths, accounts: AccountProvider, stale: boolean): Promise<void> {
  await accounts.remove(SUPPORT_USER);
  removeIfExists(paths.tunnelKey);
  removeIfExists(paths.activationKey);
  if (stale) removeIfExists(paths.pidFile);
}
