// Shared by `enable` and `reset` (after a crash): spawn the daemon, wait for its first outcome,
// print `[tether]` when connected, otherwise explain in one line and undo what enable set up.
import { AppError, describeError } from '../../shared/errors.js';
import { formatDuration } from '../../shared/duration.js';
import type { AgentPaths } from '../agent-home.js';
import type { AccountProvider } from '../accounts/account-provider.js';
import { spawnDaemon, waitForExit, type PendingDaemon } from '../daemon/spawn-daemon.js';
import { teardownTether } from '../daemon/teardown.js';
import { TETHER_LINE } from '../log-line.js';
import { isDaemonAlive, readTetherState } from '../tether-state.js';
import type { CliContext } from './cli-context.js';

export interface StartOptions {
  waitMs: number;
  accounts: AccountProvider;
  /** enable: a tether that never came up is undone. reset: the daemon keeps trying. */
  undoOnFailure: boolean;
  /** A daemon spawned ahead in standby (enable); without one, it is spawned now. */
  pending?: PendingDaemon;
}

export const STOP_WAIT_MS = 10_000;

export async function stopDaemon(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return true;
  }
  if (await waitForExit(() => isDaemonAlive(pid), STOP_WAIT_MS)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return waitForExit(() => isDaemonAlive(pid), 2_000);
}

export async function awaitDaemonStart(paths: AgentPaths, ctx: CliContext, opts: StartOptions): Promise<number> {
  const { pid, outcome } = opts.pending ? await opts.pending.start(opts.waitMs) : await spawnDaemon(paths, { env: ctx.env, timeoutMs: opts.waitMs });
  if (outcome.kind === 'connected') {
    ctx.out(TETHER_LINE);
    return 0;
  }
  const relay = readTetherState(paths)?.relay;
  const where = relay ? `${relay.host}:${relay.port}` : 'the relay';
  let failure: AppError;
  if (outcome.kind === 'stopped') {
    failure = new AppError(outcome.message.code ?? 'agent_not_running', outcome.message.byCustomer ? 'the tether was disabled before it came up' : outcome.message.reason);
  } else if (outcome.kind === 'exited') {
    failure = new AppError('internal', `the tether daemon exited before connecting (code ${outcome.code ?? outcome.signal}); see ${paths.logFile}`);
  } else {
    const last = outcome.lastError ? `: ${outcome.lastError}` : '';
    failure = opts.undoOnFailure
      ? new AppError('relay_unreachable', `could not connect to the relay at ${where} within ${formatDuration(opts.waitMs)}${last}`)
      : new AppError('relay_unreachable', `not reconnected to ${where} within ${formatDuration(opts.waitMs)}${last}; the daemon keeps retrying (ktether disable stops it)`);
  }
  if (opts.undoOnFailure) {
    if (outcome.kind === 'timeout' && pid !== undefined) await stopDaemon(pid);
    try {
      // The daemon has usually done this already; repeating it is harmless and covers a crash.
      await teardownTether({ paths, accounts: opts.accounts, reason: failure.message, markUsed: false });
    } catch (err) {
      throw new AppError(failure.code, `${failure.message} (and ${describeError(err)})`);
    }
  }
  throw failure;
}
