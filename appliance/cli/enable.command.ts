// `ktether enable --key KEY | --key-file FILE [--password PW]`: accepts the key (or refuses it and
// changes nothing), creates the support account, stores the tunnel credential, starts the daemon
// and waits until the tunnel is up or refused. Undoes everything when it does not come up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../../shared/duration.js';
import { AppError, describeError } from '../../shared/errors.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { forwardTarget, loadAgentConfig } from '../agent-config.js';
import { removeIfExists, writeFileAtomic } from '../agent-home.js';
import { SUPPORT_USER } from '../accounts/account-provider.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { acceptKey, supportPassword } from '../key-acceptance.js';
import { UNCLEAN_SHUTDOWN_LINE } from '../log-line.js';
import { daemonStatus, isTetherLive, readTetherState, writeTetherState } from '../tether-state.js';
import { isKeyUsed, markKeyUsed } from '../used-keys.js';
import { homePaths, parseOptions, say, type CliContext } from './cli-context.js';
import { awaitDaemonStart } from './daemon-start.js';
import { daemonEntryPath } from '../daemon/spawn-daemon.js';

export const DEFAULT_WAIT = '30s';

export async function enableCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, {
    key: { type: 'string' },
    'key-file': { type: 'string' },
    password: { type: 'string' },
    description: { type: 'string' },
    pending: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (o.description !== undefined || o.pending) {
    throw new AppError('usage', '--description and --pending need an enrolled appliance (one-click), which this agent does not support yet: use --key');
  }
  if ((o.key === undefined) === (o['key-file'] === undefined)) throw new AppError('usage', 'give exactly one of --key KEY or --key-file FILE');
  const waitMs = parseDuration(o.timeout ?? DEFAULT_WAIT);
  let keyText = o.key ?? '';
  if (o['key-file'] !== undefined) {
    try {
      keyText = readFileSync(o['key-file'], 'utf8');
    } catch {
      throw new AppError('usage', `cannot read --key-file ${o['key-file']}`);
    }
  }

  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const signers = trustedSignersFromPem(readFileSync(join(paths.home, config.vendorKeyFile), 'utf8'));
  const { payload, seed } = acceptKey(keyText, { signers, serial: config.serial, isUsed: (jti) => isKeyUsed(paths, jti), now: ctx.now() });
  const password = supportPassword(payload, o.password);
  const ports = payload.ports.filter((p) => forwardTarget(config, p) !== undefined);
  if (ports.length === 0) {
    throw new AppError('agent_not_initialised', `none of the key's ports (${payload.ports.join(', ')}) has a forward target: run ktether init with --forward`);
  }
  daemonEntryPath(); // fails now, before anything changes, when run outside a build
  const daemon = daemonStatus(paths);
  if (daemon.running) throw new AppError('agent_busy', `a tether is already enabled (pid ${daemon.pid}): run ktether disable or ktether reset first`);

  // Accepted: from here on the appliance changes, and every failure below undoes it.
  say(ctx, 'Starting.');
  if (daemon.stale) {
    ctx.out(UNCLEAN_SHUTDOWN_LINE);
    removeIfExists(paths.pidFile);
    const previous = readTetherState(paths);
    // The crashed tether's key was consumed by the relay; it must not come back (unless it is this
    // very key, which then simply resumes its session).
    if (isTetherLive(paths, previous) && previous.connectedAt !== null && previous.jti !== payload.jti) markKeyUsed(paths, previous.jti, ctx.now());
  }
  const now = ctx.now().toISOString();
  writeFileAtomic(paths.tunnelKey, openSshPrivateKeyFromSeed(seed, `ktether@${config.serial}`), 0o600);
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
  });
  const accounts = accountProviderFor(config.accounts, paths, ctx.runner);
  try {
    await accounts.create(SUPPORT_USER, password);
  } catch (err) {
    removeIfExists(paths.tunnelKey);
    writeTetherState(paths, { ...readTetherState(paths)!, state: 'closed', lastError: describeError(err) });
    throw err;
  }
  say(ctx, 'Starting ssh.');
  return awaitDaemonStart(paths, ctx, { waitMs, accounts, undoOnFailure: true });
}
