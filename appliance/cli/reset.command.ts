// `ktether reset`: re-establishes the connection with the same key. A running daemon gets SIGHUP and
// is watched until it has connected again; a crashed one is started again.
import { AppError } from '../../shared/errors.js';
import { loadAgentConfig } from '../agent-config.js';
import { removeIfExists } from '../agent-home.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { daemonEntryPath } from '../daemon/spawn-daemon.js';
import { TETHER_LINE, UNCLEAN_SHUTDOWN_LINE } from '../log-line.js';
import { daemonStatus, isDaemonAlive, isTetherLive, readTetherState } from '../tether-state.js';
import { homePaths, say, type CliContext } from './cli-context.js';
import { awaitDaemonStart } from './daemon-start.js';
import { DEFAULT_WAIT, parseResetOptions } from './command-options.js';

const POLL_MS = 25;

export async function resetCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseResetOptions(args);
  const { waitMs } = o;
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const state = readTetherState(paths);
  if (!isTetherLive(paths, state)) throw new AppError('agent_not_running', 'no tether is enabled: run ktether enable first');
  const daemon = daemonStatus(paths);
  if (!daemon.running) daemonEntryPath();

  say(ctx, 'Starting.');
  if (daemon.running && daemon.pid !== undefined) {
    const before = state.connections;
    process.kill(daemon.pid, 'SIGHUP');
    say(ctx, 'Starting ssh.');
    const deadline = Date.now() + waitMs;
    for (;;) {
      const now = readTetherState(paths);
      if (now?.state === 'connected' && now.connections > before) break;
      if (!now || now.state === 'closed') throw new AppError('relay_refused', now?.lastError ?? 'the tether was closed during the reset');
      if (!isDaemonAlive(daemon.pid)) throw new AppError('internal', `the tether daemon exited during the reset; see ${paths.logFile}`);
      if (Date.now() >= deadline) {
        const last = now.lastError ? `: ${now.lastError}` : '';
        throw new AppError('relay_unreachable', `not reconnected within ${o.timeout ?? DEFAULT_WAIT}${last}; the daemon keeps retrying (ktether disable stops it)`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    ctx.out(TETHER_LINE);
    return 0;
  }
  if (daemon.stale) {
    ctx.out(UNCLEAN_SHUTDOWN_LINE);
    removeIfExists(paths.pidFile);
  }
  say(ctx, 'Starting ssh.');
  return awaitDaemonStart(paths, ctx, { waitMs, accounts: accountProviderFor(config.accounts, paths, ctx.runner), undoOnFailure: false });
}
