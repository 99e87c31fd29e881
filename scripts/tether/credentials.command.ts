// `tether session credentials ID --engineer NAME`: reveals a session's generated support password
// to a registered engineer (shared/session/reveal-password.ts: audited before anything is shown).
import type { Command } from 'commander';
import { revealPassword } from '../../shared/session/reveal-password.js';
import { actorFor, withActorOption, type ActorOption } from './actor.js';
import { printJson, type Run } from './output.js';
import { sessionIdOf } from './session-id.js';
import { AppError } from '../../shared/errors.js';

export function registerCredentialCommands(session: Command, run: Run): void {
  withActorOption(
    session
      .command('credentials [id]')
      .description('reveal the support password (kace_support) of a live session to a registered engineer; audited')
      .option('--session <id>', 'the session id (instead of the positional one)')
      .option('--serial <sn>', 'the live session of this serial')
      .requiredOption('--engineer <name>', 'the engineer who will use it (must be registered)')
      .option('--json', 'machine-readable output'),
  ).action((positional: string | undefined, opts: ActorOption & { session?: string; serial?: string; engineer: string; json?: boolean }) =>
    run(async (ctx) => {
      const live = opts.serial && !positional && !opts.session ? await ctx.sessions.findLiveBySerial(opts.serial) : undefined;
      if (live === null) throw new AppError('session_not_found', `no live session for serial ${opts.serial}`);
      const id = live ? live.id : sessionIdOf(positional, opts.session);
      const actor = await actorFor(ctx, opts.as, 'engineer', 'reveal support passwords');
      const deps = { sessions: ctx.sessions, credentials: ctx.credentials, audit: ctx.audit, engineers: ctx.engineers, now: () => ctx.now() };
      const { serial, user, password } = await revealPassword(deps, { sid: id, actor, engineer: opts.engineer });
      if (opts.json) return printJson({ session: id, serial, user, password });
      process.stdout.write(`${password}\n`);
    }),
  );
}
