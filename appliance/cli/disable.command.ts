// `ktether disable`: ends the tether. With a daemon: SIGTERM and wait for it to cancel its forwards
// and clean up. Without one (it crashed): connect once to cancel the forwards, best effort, then
// clean up the same way. Always ends with the tether disabled locally.
import { loadAgentConfig } from '../agent-config.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { cancelWithoutDaemon, readStateOrDiscard, removeLeftovers } from '../daemon/offline-disable.js';
import { teardownTether } from '../daemon/teardown.js';
import { UNCLEAN_SHUTDOWN_LINE } from '../log-line.js';
import { daemonStatus, isTetherLive } from '../tether-state.js';
import { homePaths, parseOptions, say, type CliContext } from './cli-context.js';
import { stopDaemon } from './daemon-start.js';

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
