// The one way a key becomes a tether from the command line, whatever brought it (pasted, from a
// file, one-click, the inbox): accept it and set the appliance up (prepare-tether.ts), start the
// daemon and wait until the tunnel is up; undo all of it otherwise.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../shared/errors.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import type { AgentConfig } from '../agent-config.js';
import type { AgentPaths } from '../agent-home.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { daemonEntryPath, prespawnDaemon, type PendingDaemon } from '../daemon/spawn-daemon.js';
import { readIdentity } from '../identity.js';
import { prepareTether } from '../prepare-tether.js';
import { daemonStatus } from '../tether-state.js';
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
  /** `system:id` of the ticket, when known (one-click). */
  ticket?: string;
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
  const accounts = accountProviderFor(config.accounts, paths, ctx.runner);
  await prepareTether(
    {
      paths,
      config,
      signers: trustedSignersFromPem(readFileSync(join(paths.home, config.vendorKeyFile), 'utf8')),
      sealKey: readIdentity(paths)?.sealKey,
      keyText: e.keyText,
      password: e.password,
      ...(e.notes ? { notes: e.notes } : {}),
      ticket: e.ticket,
      accounts,
      now: ctx.now(),
      beforeChange: () => {
        daemonEntryPath(); // fails now, before anything changes, when run outside a build
        const daemon = daemonStatus(paths);
        if (daemon.running) throw new AppError('agent_busy', `a tether is already enabled (pid ${daemon.pid}): run ktether disable or ktether reset first`);
      },
    },
    { say: (m) => say(ctx, m), raw: (line) => ctx.out(line) },
  );
  return awaitDaemonStart(paths, ctx, { waitMs: e.waitMs, accounts, undoOnFailure: true, ...(pending ? { pending } : {}) });
}
