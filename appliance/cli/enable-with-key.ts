// The one way a key becomes a tether here, whatever brought it (pasted, from a file, one-click,
// the inbox): accept it (or refuse it and change nothing), create the support account (with a
// password generated here and sealed for escrow, for an escrow key), store the tunnel credential,
// start the daemon and wait until the tunnel is up; undo all of it otherwise.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, AppError } from '../../shared/errors.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { forwardTarget, type AgentConfig } from '../agent-config.js';
import { removeIfExists, writeFileAtomic, type AgentPaths } from '../agent-home.js';
import { SUPPORT_USER } from '../accounts/account-provider.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { daemonEntryPath, prespawnDaemon, type PendingDaemon } from '../daemon/spawn-daemon.js';
import { removeEscrow, writeEscrow } from '../escrow-file.js';
import { readIdentity } from '../identity.js';
import { acceptKey, supportPassword } from '../key-acceptance.js';
import { UNCLEAN_SHUTDOWN_LINE } from '../log-line.js';
import { daemonStatus, isTetherLive, readTetherState, writeTetherState } from '../tether-state.js';
import { isKeyUsed, markKeyUsed } from '../used-keys.js';
import { say, type CliContext } from './cli-context.js';
import { awaitDaemonStart } from './daemon-start.js';

export interface EnableWithKey {
  paths: AgentPaths;
  config: AgentConfig;
  keyText: string;
  /** The customer's support password (replaces a generated one). */
  password: string | undefined;
  waitMs: number;
  /** Lines printed right after `Starting.` (one-click names its ticket). */
  notes?: string[];
}

export async function enableWithKey(e: EnableWithKey, ctx: CliContext): Promise<number> {
  // The daemon boots while the key is checked and the account made; if anything is refused it is
  // told to go away before it has touched anything (abort is a no-op once it was started).
  // Outside a build (the entry is missing) nothing is spawned here and the check below explains.
  const pending = ctx.early ?? (existsSync(daemonEntryPathOrEmpty()) ? prespawnDaemon(e.paths, ctx.env) : undefined);
  try {
    return await acceptAndStart(e, ctx, pending);
  } finally {
    pending?.abort();
  }
}

function daemonEntryPathOrEmpty(): string {
  try {
    return daemonEntryPath();
  } catch {
    return '';
  }
}

async function acceptAndStart(e: EnableWithKey, ctx: CliContext, pending: PendingDaemon | undefined): Promise<number> {
  const { paths, config } = e;
  const signers = trustedSignersFromPem(readFileSync(join(paths.home, config.vendorKeyFile), 'utf8'));
  const accepted = acceptKey(e.keyText, {
    signers,
    serial: config.serial,
    isUsed: (jti) => isKeyUsed(paths, jti),
    now: ctx.now(),
    sealKey: readIdentity(paths)?.sealKey,
  });
  const { payload, seed } = accepted;
  const support = supportPassword(accepted.pw, e.password, payload);
  const ports = payload.ports.filter((p) => forwardTarget(config, p) !== undefined);
  if (ports.length === 0) {
    throw new AppError('agent_not_initialised', `none of the key's ports (${payload.ports.join(', ')}) has a forward target: run ktether init with --forward`);
  }
  daemonEntryPath(); // fails now, before anything changes, when run outside a build
  const daemon = daemonStatus(paths);
  if (daemon.running) throw new AppError('agent_busy', `a tether is already enabled (pid ${daemon.pid}): run ktether disable or ktether reset first`);

  // Accepted: from here on the appliance changes, and every failure below undoes it.
  say(ctx, 'Starting.');
  for (const note of e.notes ?? []) say(ctx, note);
  if (daemon.stale) {
    ctx.out(UNCLEAN_SHUTDOWN_LINE);
    removeIfExists(paths.pidFile);
    const previous = readTetherState(paths);
    // The crashed tether's key was consumed by the relay; it must not come back (unless it is this
    // very key, which then simply resumes its session).
    if (isTetherLive(paths, previous) && previous.connectedAt !== null && previous.jti !== payload.jti) markKeyUsed(paths, previous.jti, ctx.now());
  }
  const now = ctx.now().toISOString();
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
    ports,
    expiresAt: new Date(payload.exp * 1000).toISOString(),
    connectedAt: null,
    connections: 0,
    pid: null,
    lastError: null,
    updatedAt: now,
    escrow: support.escrow ? 'pending' : 'none',
  });
  // Sealed to the vendor before the account exists: the daemon sends it once connected.
  if (support.escrow) writeEscrow(paths, support.escrow);
  else removeEscrow(paths);
  const accounts = accountProviderFor(config.accounts, paths, ctx.runner);
  try {
    await accounts.create(SUPPORT_USER, support.password);
  } catch (err) {
    removeIfExists(paths.tunnelKey);
    removeIfExists(paths.activationKey);
    removeEscrow(paths);
    writeTetherState(paths, { ...readTetherState(paths)!, state: 'closed', lastError: describeError(err) });
    throw err;
  }
  say(ctx, 'Starting ssh.');
  return awaitDaemonStart(paths, ctx, { waitMs: e.waitMs, accounts, undoOnFailure: true, ...(pending ? { pending } : {}) });
}
