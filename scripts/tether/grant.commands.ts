// `tether session grant|revoke-grant|grants`: which engineers may reach one session when
// TETHER_ENGINEER_POLICY is `assigned` (the default). Grants are audited with the operator's name;
// a withdrawn grant closes the engineer's open channels to the session on every relay.
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import type { SessionRecord } from '../../shared/session/session.schema.js';
import { actorFor, withActorOption, type ActorOption } from './actor.js';
import type { OperatorContext } from './operator-context.js';
import { printJson, type Run } from './output.js';
import { sessionIdOf } from './session-id.js';

interface GrantOptions extends ActorOption {
  session?: string;
  engineer: string;
}

export function registerGrantCommands(session: Command, run: Run): void {
  grantCommand(session, run, 'grant', 'let a registered engineer reach this session (audited)', 'a registered engineer', async (ctx, s, engineer, actor) => {
    if (s.state === 'CLOSED') throw new AppError('session_closed', `session ${s.id} is closed`);
    if (!(await ctx.engineers.get(engineer))) throw new AppError('engineer_not_found', `no engineer named ${engineer}`);
    await ctx.access.grant(s, engineer, actor, ctx.now());
    return `engineer ${engineer} may now reach ${s.serial} (session ${s.id})`;
  });

  grantCommand(session, run, 'revoke-grant', "withdraw a grant; the engineer's open channels to this session close (audited)", 'the engineer', async (ctx, s, engineer, actor) => {
    if (!(await ctx.access.revokeGrant(s, engineer, actor, ctx.now()))) {
      throw new AppError('engineer_not_authorised', `engineer ${engineer} holds no grant on session ${s.id}`);
    }
    return `engineer ${engineer} may no longer reach ${s.serial} (session ${s.id})`;
  });

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

/** `grant` and `revoke-grant`: an admin changes one engineer's access to one session; `change` returns the line to print. */
function grantCommand(
  session: Command,
  run: Run,
  name: string,
  description: string,
  engineerHelp: string,
  change: (ctx: OperatorContext, s: SessionRecord, engineer: string, actor: string) => Promise<string>,
): void {
  withActorOption(
    session
      .command(`${name} [id]`)
      .description(description)
      .option('--session <id>', 'the session id (instead of the positional one)')
      .requiredOption('--engineer <name>', engineerHelp),
  ).action((id: string | undefined, opts: GrantOptions) =>
    run(async (ctx) => {
      const actor = await actorFor(ctx, opts.as, 'admin', 'grant sessions');
      const s = await ctx.sessions.require(sessionIdOf(id, opts.session));
      process.stdout.write(`${await change(ctx, s, opts.engineer, actor)}\n`);
    }),
  );
}
