// The first half of enabling a key, the same for the CLI and the service: accept it (or refuse it
// and change nothing), then set the appliance up for it: the familiar `Starting.` lines, the tunnel
// credential and the appliance's own key pair, the state file, the support account (with a
// password generated here and sealed for escrow, for an escrow key). Starting the tunnel is the
// caller's: the CLI spawns the daemon after all of it; the service starts dialling while the
// account is made (the login waits for it), so acceptance and the account are separate steps.
import type { KeyObject } from 'node:crypto';
import { describeError, AppError } from '../shared/errors.js';
import type { TrustedSigners } from '../shared/key/key-codec.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../shared/ssh-keys.js';
import { forwardTarget, type AgentConfig } from './agent-config.js';
import { removeIfExists, writeFileAtomic, type AgentPaths } from './agent-home.js';
import { SUPPORT_USER, type AccountProvider } from './accounts/account-provider.js';
import { removeEscrow, writeEscrow } from './escrow-file.js';
import { acceptKey, supportPassword, type AcceptedKey } from './key-acceptance.js';
import { UNCLEAN_SHUTDOWN_LINE } from './log-line.js';
import { daemonStatus, isTetherLive, readTetherState, writeTetherState } from './tether-state.js';
import { isKeyUsed, markKeyUsed } from './used-keys.js';

/** Where the familiar lines go: `say` as `[<date>] [ktether] …`, `raw` as is. */
export interface EnableOutput {
  say(message: string): void;
  raw(line: string): void;
}

export interface TetherPlan {
  paths: AgentPaths;
  config: AgentConfig;
  signers: TrustedSigners;
  /** The enrolled identity's X25519 key, when enrolled (opens sealed keys). */
  sealKey: KeyObject | undefined;
  keyText: string;
  /** The customer's support password (replaces a generated one). */
  password: string | undefined;
  /** Lines printed right after `Starting.` (one-click names its ticket). */
  notes?: string[];
  /** `system:id` of the ticket the tether is for, when known (one-click). */
  ticket?: string | undefined;
  accounts: AccountProvider;
  now: Date;
  /** Checks that must pass after the key is accepted and before anything changes. */
  beforeChange?: () => void;
  /** Refusal of a key that needs the customer's password when none was given (wording of the caller). */
  passwordRequired?: () => AppError;
  /** Makes the password an escrow key asks the appliance to generate (default: a fresh one now). */
  generatePassword?: () => string;
}

export interface PreparedTether {
  accepted: AcceptedKey;
  ports: number[];
  /** The support account's password (never logged, never written anywhere but the account). */
  password: string;
}

/** Accept, create the account, `Starting ssh.`; a failed account undoes the files (CLI). */
export async function prepareTether(p: TetherPlan, out: EnableOutput): Promise<PreparedTether> {
  const prepared = acceptTether(p, out);
  try {
    await createSupportAccount(p, prepared);
  } catch (err) {
    undoAcceptedTether(p.paths, err);
    throw err;
  }
  out.say('Starting ssh.');
  return prepared;
}

/** Accepts the key (or refuses it and changes nothing), then writes what the tunnel needs. */
export function acceptTether(p: TetherPlan, out: EnableOutput): PreparedTether {
  const { paths, config } = p;
  const accepted = acceptKey(p.keyText, {
    signers: p.signers,
    serial: config.serial,
    isUsed: (jti) => isKeyUsed(paths, jti),
    now: p.now,
    sealKey: p.sealKey,
  });
  const { payload, seed } = accepted;
  if (p.password === undefined && accepted.pw?.mode === 'customer' && p.passwordRequired) throw p.passwordRequired();
  const support = supportPassword(accepted.pw, p.password, payload, p.generatePassword);
  const ports = payload.ports.filter((port) => forwardTarget(config, port) !== undefined);
  if (ports.length === 0) {
    throw new AppError('agent_not_initialised', `none of the key's ports (${payload.ports.join(', ')}) has a forward target: run ktether init with --forward`);
  }
  p.beforeChange?.();
  const daemon = daemonStatus(paths);

  // Accepted: from here on the appliance changes, and the caller undoes it if the tunnel never comes up.
  out.say('Starting.');
  for (const note of p.notes ?? []) out.say(note);
  if (daemon.stale) {
    out.raw(UNCLEAN_SHUTDOWN_LINE);
    removeIfExists(paths.pidFile);
    const previous = readTetherState(paths);
    // The crashed tether's key was consumed by the relay; it must not come back (unless it is this
    // very key, which then simply resumes its session).
    if (isTetherLive(paths, previous) && previous.connectedAt !== null && previous.jti !== payload.jti) markKeyUsed(paths, previous.jti, p.now);
  }
  // The key's credential logs in once; the relay then binds the key pair made here, for every reconnect.
  writeFileAtomic(paths.activationKey, openSshPrivateKeyFromSeed(seed, `ktether-activation@${config.serial}`), 0o600);
  writeFileAtomic(paths.tunnelKey, openSshPrivateKeyFromSeed(generateSeed(), `ktether@${config.serial}`), 0o600);
  writeTetherState(paths, {
    state: 'initial',
    sessionId: payload.sid,
    jti: payload.jti,
    serial: config.serial,
    product: payload.product,
    relay: payload.relay,
    ...(payload.relays ? { relays: payload.relays } : {}),
    ports,
    expiresAt: new Date(payload.exp * 1000).toISOString(),
    connectedAt: null,
    connections: 0,
    pid: null,
    lastError: null,
    updatedAt: p.now.toISOString(),
    escrow: support.escrow ? 'pending' : 'none',
    ...(p.ticket ? { ticket: p.ticket } : {}),
  });
  // Sealed to the vendor before the account exists: the tunnel sends it once connected.
  if (support.escrow) writeEscrow(paths, support.escrow);
  else removeEscrow(paths);
  return { accepted, ports, password: support.password };
}

export function createSupportAccount(p: Pick<TetherPlan, 'accounts'>, prepared: PreparedTether): Promise<void> {
  return p.accounts.create(SUPPORT_USER, prepared.password);
}

/** After a failed account: nothing of the accepted key stays (it was never used, so it stays usable). */
export function undoAcceptedTether(paths: AgentPaths, err: unknown): void {
  removeIfExists(paths.tunnelKey);
  removeIfExists(paths.activationKey);
  removeEscrow(paths);
  const state = readTetherState(paths);
  if (state) writeTetherState(paths, { ...state, state: 'closed', pid: null, lastError: describeError(err) });
}
