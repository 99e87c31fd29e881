// Starts the background daemon (node running the compiled daemon-main.js next to this file,
// detached, output to the log file, an IPC channel) and waits for its first outcome: connected,
// stopped, exited, or no answer in time. Then lets it go: disconnects IPC and unreferences it.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AppError } from '../../shared/errors.js';
import type { AgentPaths } from '../agent-home.js';
import { daemonMessageSchema, type DaemonMessage } from './daemon-ipc.js';
import { GO_MESSAGE, daemonEntryFile, spawnStandbyDaemon } from './early-spawn.js';

export type DaemonOutcome =
  | { kind: 'connected'; message: Extract<DaemonMessage, { type: 'connected' }> }
  | { kind: 'stopped'; message: Extract<DaemonMessage, { type: 'stopped' }> }
  | { kind: 'exited'; code: number | null; signal: string | null }
  | { kind: 'timeout'; lastError: string | undefined };

/** The compiled daemon entry beside this module (dist/appliance/daemon/daemon-main.js in a build). */
export function daemonEntryPath(): string {
  const path = daemonEntryFile();
  if (!existsSync(path)) throw new AppError('internal', `daemon entry ${path} is missing: run ktether from its build (npm run build)`);
  return path;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** A daemon process already booting in standby: it loads its code, then waits for `start()`. */
export interface PendingDaemon {
  /** Lets it run (it reads the tether state written meanwhile) and waits for its first outcome. */
  start(timeoutMs: number): Promise<{ pid: number | undefined; outcome: DaemonOutcome }>;
  /** It exits without doing anything (nothing was accepted). Idempotent. */
  abort(): void;
}

/**
 * Spawns the daemon at once in standby. Booting a second Node process is most of the time
 * `enable` takes, so it overlaps with the command's own key checks and account creation.
 */
export function prespawnDaemon(paths: AgentPaths, env: NodeJS.ProcessEnv): PendingDaemon {
  daemonEntryPath();
  return pendingDaemon(spawnStandbyDaemon(paths.home, env));
}

/** Wraps a standby daemon process (spawned here, or by the bin entry before anything loaded). */
export function pendingDaemon(child: ChildProcess): PendingDaemon {
  let settled = false;
  return {
    abort() {
      if (settled) return;
      settled = true;
      // Disconnecting before `go` makes the standby daemon exit quietly; the kill covers a hang.
      if (child.connected) child.disconnect();
      child.kill('SIGTERM');
      child.unref();
    },
    async start(timeoutMs) {
      settled = true;
      const outcome = await awaitOutcome(child, timeoutMs, () => child.send(GO_MESSAGE));
      child.removeAllListeners('message');
      child.removeAllListeners('exit');
      if (child.connected) child.disconnect();
      child.unref();
      return { pid: child.pid, outcome };
    },
  };
}

export async function spawnDaemon(paths: AgentPaths, opts: SpawnOptions): Promise<{ pid: number | undefined; outcome: DaemonOutcome }> {
  return prespawnDaemon(paths, opts.env).start(opts.timeoutMs);
}

function awaitOutcome(child: ChildProcess, timeoutMs: number, begin: () => void): Promise<DaemonOutcome> {
  let lastError: string | undefined;
  return new Promise<DaemonOutcome>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout', lastError }), timeoutMs);
    const settle = (o: DaemonOutcome): void => {
      clearTimeout(timer);
      resolve(o);
    };
    child.on('message', (raw) => {
      const parsed = daemonMessageSchema.safeParse(raw);
      if (!parsed.success) return;
      const m = parsed.data;
      if (m.type === 'retrying') lastError = m.error;
      else if (m.type === 'connected') settle({ kind: 'connected', message: m });
      else settle({ kind: 'stopped', message: m });
    });
    child.once('exit', (code, signal) => {
      // Messages sent just before exiting may still be in the channel: read them first.
      const exited = (): void => settle({ kind: 'exited', code, signal });
      if (!child.connected) return exited();
      child.once('disconnect', exited);
      setTimeout(exited, 200).unref();
    });
    child.once('error', (err) => {
      lastError = err.message;
      settle({ kind: 'exited', code: null, signal: null });
    });
    if (child.exitCode === null && child.connected) begin();
  });
}

/** Polls until `pid` is gone or the deadline passes; true when it is gone. */
export async function waitForExit(isAlive: () => boolean, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return true;
}
