#!/usr/bin/env node
// The `ktether` appliance agent's bin entry; everything lives in appliance/. For `enable`, the
// tunnel daemon starts booting first, before this process loads the rest of the agent.
import { earlyStandbyDaemon } from '../appliance/daemon/early-spawn.js';

const argv = process.argv.slice(2);
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0); // `ktether status | head -1`: stop quietly
  throw err;
});
const standby = earlyStandbyDaemon(argv, process.env);
// Loaded only with a standby daemon: the other commands (and a service's clients) start faster.
const early = standby ? (await import('../appliance/daemon/spawn-daemon.js')).pendingDaemon(standby) : undefined;
const { runKtether } = await import('../appliance/cli/ktether.js');
try {
  process.exitCode = await runKtether(argv, { early });
} finally {
  // Unused (enable refused before starting it, or another command): it exits without acting.
  early?.abort();
}
