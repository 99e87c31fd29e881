// The live (or last) tether as recorded on disk (state.json) and the daemon's pid file. Written by
// `enable` before the daemon starts and by the daemon on every state change; read by every command.
// Holds no secrets: the credential lives only in tunnel_key, the sealed escrowed password only in
// password_escrow.json.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { portSchema, productSchema, relayEndpointSchema, serialSchema } from '../shared/key/tether-key.schema.js';
import { AGENT_STATES, isLiveState } from './agent-state.js';
import { readJsonIfExists, removeIfExists, writeFileAtomic, writeJsonAtomic, type AgentPaths } from './agent-home.js';

export const tetherStateSchema = z.object({
  state: z.enum(AGENT_STATES),
  sessionId: z.string().min(1),
  jti: z.string().min(1),
  serial: serialSchema,
  product: productSchema,
  relay: relayEndpointSchema,
  /** The key's fleet of relays, in order (issue 10); absent: `relay` alone. */
  relays: z.array(relayEndpointSchema).optional(),
  /** The relay of the fleet the agent is (or was last) connected to; absent before the first connection. */
  via: relayEndpointSchema.optional(),
  /** Ports forwarded: the key's ports that have a configured target. */
  ports: z.array(portSchema),
  expiresAt: z.string(),
  /** Last time the relay accepted the credential; set once means the key has been consumed. */
  connectedAt: z.string().nullable(),
  /** Successful connections so far (reset and reconnects each add one). */
  connections: z.number().int().nonnegative(),
  pid: z.number().int().positive().nullable(),
  lastError: z.string().nullable(),
  updatedAt: z.string(),
  /**
   * Password escrow: `pending` while the sealed password (password_escrow.json) waits for the
   * relay's acknowledgement, `acknowledged` once the relay took it; `none` for other keys (and for
   * state written before escrow existed).
   */
  escrow: z.enum(['none', 'pending', 'acknowledged']).default('none'),
  /** `system:id` of the help-desk ticket the tether is for, when the agent knows it (one-click). */
  ticket: z.string().min(1).max(200).optional(),
});
export type TetherState = z.infer<typeof tetherStateSchema>;

export function readTetherState(paths: AgentPaths): TetherState | undefined {
  const raw = readJsonIfExists(paths.stateFile);
  if (raw === undefined) return undefined;
  const parsed = tetherStateSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('internal', `${paths.stateFile} is invalid; run ktether disable to clean up`);
  return parsed.data;
}

export function writeTetherState(paths: AgentPaths, state: TetherState): void {
  writeJsonAtomic(paths.stateFile, tetherStateSchema.parse(state));
}

export function updateTetherState(paths: AgentPaths, change: Partial<TetherState>, now: Date = new Date()): TetherState | undefined {
  const current = readTetherState(paths);
  if (!current) return undefined;
  const next = { ...current, ...change, updatedAt: now.toISOString() };
  writeTetherState(paths, next);
  return next;
}

/** A tether that is meant to be up: recorded as live and its credential still on disk. */
export function isTetherLive(paths: AgentPaths, state: TetherState | undefined): state is TetherState {
  return state !== undefined && isLiveState(state.state) && existsSync(paths.tunnelKey);
}

export function readPid(paths: AgentPaths): number | undefined {
  if (!existsSync(paths.pidFile)) return undefined;
  const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function writePid(paths: AgentPaths, pid: number): void {
  writeFileAtomic(paths.pidFile, `${pid}\n`);
}

/** Removes the pid file only if it still names `pid` (a newer daemon may have replaced it). */
export function removePidFile(paths: AgentPaths, pid: number): void {
  if (readPid(paths) === pid) removeIfExists(paths.pidFile);
}

/**
 * Whether `pid` is a running ktether daemon. Checks the command line where /proc exists, so a
 * recycled pid of an unrelated process does not count as a live daemon.
 */
export function isDaemonAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    const text = readFileSync(cmdline, 'utf8');
    return /daemon-main|ktether/.test(text);
  } catch {
    return false;
  }
}

export interface DaemonStatus {
  pid: number | undefined;
  /** A pid file exists but its process is gone. */
  stale: boolean;
  running: boolean;
}

export function daemonStatus(paths: AgentPaths): DaemonStatus {
  const pid = readPid(paths);
  if (pid === undefined) return { pid, stale: false, running: false };
  const running = isDaemonAlive(pid);
  return { pid, stale: !running, running };
}
