// `tether session grant|revoke-grant|grants`: which engineers may reach one session when
// TETHER_ENGINEER_POLICY is `assigned` (the default). Grants are audited with the operator's name;
// a withdrawn grant closes the engineer's open channels to the session on every relay.
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { actorFor, withActorOption, type ActorOption } from './actor.js';
import { printJson, type Run } from './output.js';
import { sessionIdOf } from './session-id.js';

interface GrantOptions extends ActorOption {
  session?: string;
  engineer: string;
}

export function registerGrantCommands(session: Command, run: Run): void {
  withActorOption(
    session
      .command('grant [id]')
      .description('let a registered engineer reach this session (audited)')
      .option('--session <id>', 'the session id (instead of the positional one)')
      .requiredOption('--engineer <name>', 'a registered engineer'),
  ).action((id: string | undefined, opts: GrantOptions) =>
    run(async (ctx) => {
      const actor = await actorFor(ctx, opts.as, 'admin', 'grant sessions');
      const s = await ctx.sessions.require(sessionIdOf(id, opts.session));
      if (s.state === 'CLOSED') throw new AppError('session_closed', `session ${s.id} is closed`);
      if (!(await ctx.engineers.get(opts.engineer))) throw new AppError('engineer_not_found', `no engineer named ${opts.engineer}`);
      await ctx.access.grant(s, opts.engineer, actor, ctx.now());
      process.stdout.write(`engineer ${opts.engineer} may now reach ${s.serial} (session ${s.id})\n`);
    }),
  );

  withActorOption(
    session
      .command('revoke-grant [id]')
      .description("withdraw a grant; the engineer's open channels to this session close (audited)")
      .option('--session <id>', 'the session id (instead of the positional one)')
      .requiredOption('--engineer <name>', 'the engineer'),
  ).action((id: string | undefined, opts: GrantOptions) =>
    run(async (ctx) => {
      const actor = await actorFor(ctx, opts.as, 'admin', 'grant sessions');
      const s = await ctx.sessions.require(sessionIdOf(id, opts.session));
      if (!(await ctx.access.revokeGrant(s, opts.engineer, actor, ctx.now()))) {
        throw new AppError('engineer_not_authorised', `engineer ${opts.engineer} holds no grant on session ${s.id}`);
      }
      process.stdout.write(`engineer ${opts.engineer} may no longer reach ${s.serial} (session ${s.id})\n`);
    }),
  );

  session
    .command('grants [id]')
    .description('who may reach this session: grants and the ticket assignee')
    .option('--session <id>', 'the session id (instead of the positional one)')
    .option('--json', 'machine-readable output')
    .action((id: string | undefined, opts: { session?: string; json?: boolean }) =>
      run(async (ctx) => {
        const s = await ctx.sessions.require(sessionIdOf(id, opts.session));
        const grants = await ctx.access.grants(s.id);
        const assignee = s.ticket ? await ctx.access.assignee(s.ticket) : null;
        const policy = ctx.config.engineerPolicy;
        if (opts.json) return printJson({ session: s.id, policy, assignee, grants: grants.map((g) => ({ engineer: g.engineer, by: g.by, at: new Date(g.at).toISOString() })) });
        process.stdout.write(`policy: ${policy}${policy === 'all' ? ' (every registered engineer)' : ''}\n`);
        process.stdout.write(`assignee: ${assignee ?? '-'}\n`);
        for (const g of grants) process.stdout.write(`granted: ${g.engineer}\tby ${g.by}\t${new Date(g.at).toISOString()}\n`);
      }),
    );
}
