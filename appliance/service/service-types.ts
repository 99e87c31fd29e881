// The words the service's parts share (kept apart so they import each other in one direction only):
// what an enable asks for, what it answers, where its milliseconds went, and the runner's events.
import type { AgentPaths } from '../agent-home.js';
import type { AgentLog } from '../agent-log.js';
import type { Clock } from '../clock.js';
import type { RunnerStopped } from '../daemon/tether-runner.js';
import type { EnableSource } from './control-protocol.js';
import type { Wording } from './enable-wording.js';
import type { WarmCache } from './warm-cache.js';

export const DEFAULT_WAIT_MS = 30_000;

export interface TetherServiceDeps {
  paths: AgentPaths;
  warm: WarmCache;
  log: AgentLog;
  clock: Clock;
  pid: number;
  /** The page's address, for status. */
  pageUrl?: () => string | null;
}

export interface EnableRequest {
  source: EnableSource;
  password?: string | undefined;
  timeoutMs?: number | undefined;
  wording: Wording;
}

/** Milliseconds spent in each step of one enable, as the service saw them. */
export interface EnableTimings {
  [step: string]: number | null;
  /** One-click: the signed request to the API (ticket, sealed key) until its answer; null otherwise. */
  apiMs: number | null;
  /** Key verification, opening sealed secrets, writing the credential and state files. */
  keyMs: number;
  /** Creating kace_support (scrypt hash with the file provider; useradd + chpasswd on Linux). */
  accountMs: number;
  /** TCP connect and SSH key exchange, until the relay's host key matched the pin (beside accountMs). */
  kexMs: number;
  /** The login, from when both the key exchange and the account are done: appliance key alone, then
   * (first time) the key's credential and the appliance key again. */
  loginMs: number;
  /** tcpip-forward for every port until the relay accepted them (the tunnel is usable from here). */
  forwardsMs: number;
  /** The escrow's first round trip (escrow keys), before enable reports connected. */
  escrowMs: number;
  totalMs: number;
  /** CPU time of the service process (all threads) during the enable. */
  cpuMs: number;
}

export interface EnableResult {
  sessionId: string;
  relay: string;
  ports: number[];
  expiresAt: string;
  ticket: string | null;
  timings: EnableTimings;
}

export type RunnerEvent = { kind: 'connected' } | { kind: 'retrying'; error: string } | { kind: 'stopped'; info: RunnerStopped };
