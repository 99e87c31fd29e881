// `ktether disable`: ends the tether. With a daemon: SIGTERM and wait for it to cancel its forwards
// and clean up. Without one (it crashed): connect once to cancel the forwards, best effort, then
// clean up the same way. Always ends with the tether disabled locally. A damaged config.json does
// not stop a running daemon from being disabled (SIGTERM needs no config; the daemon has its own).
import { existsSync } from 'node:fs';
import { AppError } from '../../shared/errors.js';
import { loadAgentConfig, type AgentConfig } from '../agent-config.js';
import type { AgentPaths } from '../agent-home.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { cancelWithoutDaemon, readStateOrDiscard, removeLeftovers } from '../daemon/offline-disable.js';
import { teardownTether } from '../daemon/teardown.js';
import { UNCLEAN_SHUTDOWN_LINE } from '../log-line.js';
import { daemonStatus, isTetherLive } from '../tether-state.js';
import { homePaths, parseOptions, say, type CliContext } from './cli-context.js';
import { stopDaemon } from './daemon-start.js';

/** The config, or undefined when config.json is there but unreadable and a running daemon can still be stopped. */
function configFor(paths: AgentPaths, daemonRunning: boolean): AgentConfig | undefined {
  try {
    return loadAgentConfig(paths);
  } catch (err) {
    if (daemonRunning && existsSync(paths.config)) return undefined;
    throw err;
  }
}

export async function disableCommand(args: string[], ctx: CliContext): Promise<number> {
  parseOptions(args, {});
  const paths = homePaths(ctx);
  const daemon = daemonStatus(paths);
  const config = configFor(paths, daemon.running);
  say(ctx, 'Stopping.');
  if (daemon.running && daemon.pid !== undefined) {
    await stopDaemon(daemon.pid);
  } else if (daemon.stale) {
    ctx.out(UNCLEAN_SHUTDOWN_LINE);
  }
  if (!config) {
    // The daemon tore down with the config it started with; nothing more can be checked here.
    const state = readStateOrDiscard(paths);
    const failed = state?.lastError != null;
    if (failed || isTetherLive(paths, state)) {
      throw new AppError('agent_not_initialised', `the tether daemon was stopped, but ${paths.config} is invalid, so what it left cannot be cleaned up: run ktether init again, then ktether disable`);
    }
    say(ctx, `${paths.config} is invalid: run ktether init again before the next enable`);
    say(ctx, 'Tether disabled.');
    return 0;
  }
  const accounts = accountProviderFor(config.accounts, paths, ctx.runner);
  // Whatever the daemon did not finish (it crashed, or never ran) is done here.
  const state = readStateOrDiscard(paths);
  if (isTetherLive(paths, state)) {
    await cancelWithoutDaemon(paths, config, state, (m) => say(ctx, m));
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
