// The background tunnel daemon: runs the recorded tether (tether-runner.ts) in its own process,
// answers SIGHUP (reset), SIGTERM (disable) and SIGUSR2 (hand the tether over to a starting
// service, which resumes it), and reports its first outcome over IPC to the command that spawned it.
import { loadAgentConfig } from '../agent-config.js';
import { agentPaths } from '../agent-home.js';
import { fileLog } from '../agent-log.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import type { CommandRunner } from '../accounts/command-runner.js';
import { removePidFile } from '../tether-state.js';
import type { DaemonSend } from './daemon-ipc.js';
import { TetherRunner } from './tether-runner.js';

export interface DaemonOptions {
  home: string;
  send?: DaemonSend;
  runner?: CommandRunner;
  pid?: number;
}

/** The signal a starting service sends a daemon it takes the tether from. */
export const HANDOVER_SIGNAL = 'SIGUSR2';

/** Runs until the tether ends; resolves with the process exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const paths = agentPaths(opts.home);
  const pid = opts.pid ?? process.pid;
  const send: DaemonSend = opts.send ?? (() => {});
  const log = fileLog(paths.logFile);
  const config = loadAgentConfig(paths);
  const tether = new TetherRunner({
    paths,
    config,
    accounts: accountProviderFor(config.accounts, paths, opts.runner),
    log,
    pid,
    events: {
      connected: (c) => void send({ type: 'connected', ...c }),
      retrying: ({ error, delayMs }) => void send({ type: 'retrying', error, delayMs }),
      stopped: (info) => send({ type: 'stopped', code: info.code, reason: info.reason, byCustomer: info.byCustomer }),
    },
  });

  const onHup = (): void => tether.reset();
  const onTerm = (): void => void tether.drain();
  const onHandover = (): void => void tether.close('handing the tether over to the ktether service');
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on(HANDOVER_SIGNAL, onHandover);
  try {
    tether.start();
    return await tether.done;
  } finally {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
    process.off(HANDOVER_SIGNAL, onHandover);
    removePidFile(paths, pid);
  }
}
