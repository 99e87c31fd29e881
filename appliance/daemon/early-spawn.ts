// Starts the tunnel daemon in standby before `ktether enable` has loaded its own modules: booting
// a second Node process is most of what enable costs, so it should overlap with everything else.
// Node built-ins and leaf modules only: importing zod or ssh2 here would defeat the purpose.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_KTETHER_HOME } from '../../shared/agent-defaults.js';
import { agentPaths } from '../agent-home.js';
import { socketPath } from '../service/control-protocol.js';

/** Argument of a daemon spawned ahead of time: boot, then wait for GO_MESSAGE before running. */
export const STANDBY_FLAG = '--standby';
/** The spawner's only message to the daemon: the tether state is written, run now. */
export const GO_MESSAGE = { type: 'go' } as const;

/** The compiled daemon entry beside this module (dist/appliance/daemon/daemon-main.js in a build). */
export function daemonEntryFile(): string {
  return fileURLToPath(new URL('./daemon-main.js', import.meta.url));
}

/** A detached daemon in standby, its output appended to the agent log, with an IPC channel. */
export function spawnStandbyDaemon(home: string, env: NodeJS.ProcessEnv): ChildProcess {
  const logFd = openSync(agentPaths(home).logFile, 'a', 0o644);
  try {
    return spawn(process.execPath, [daemonEntryFile(), STANDBY_FLAG], {
      detached: true,
      stdio: ['ignore', logFd, logFd, 'ipc'],
      env: { ...env, KTETHER_HOME: home },
    });
  } finally {
    closeSync(logFd);
  }
}

/**
 * For `ktether enable` on an initialised appliance with a built daemon: the standby daemon, else
 * none. None either when a service's socket is there: the service does the work then.
 */
export function earlyStandbyDaemon(argv: readonly string[], env: NodeJS.ProcessEnv): ChildProcess | undefined {
  if (argv[0] !== 'enable') return undefined;
  const home = resolve(env.KTETHER_HOME || DEFAULT_KTETHER_HOME);
  if (!existsSync(agentPaths(home).config) || !existsSync(daemonEntryFile()) || existsSync(socketPath(home))) return undefined;
  return spawnStandbyDaemon(home, env);
}
