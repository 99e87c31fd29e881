// `tether operator add|list|remove`: the people who use the operator API, console and CLI. `add`
// prints the personal token once (only its SHA-256 is stored); adds and removals are audited.
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { OPERATOR_ROLES, operatorRoleSchema } from '../../shared/operator-role.js';
import { actorFor, withActorOption, type ActorOption } from './actor.js';
import { printJson, type Run } from './output.js';

export function registerOperatorCommands(program: Command, run: Run): void {
  const operator = program.command('operator').description('manage operators (personal tokens and roles for the API and console)');

  withActorOption(
    operator
      .command('add <name>')
      .description('register an operator and print their personal token (shown once)')
      .requiredOption('--role <role>', OPERATOR_ROLES.join(' | '))
      .option('--json', 'print {name, role, token}'),
  ).action((name: string, opts: ActorOption & { role: string; json?: boolean }) =>
    run(async (ctx) => {
      const role = operatorRoleSchema.safeParse(opts.role);
      if (!role.success) throw new AppError('usage', `invalid --role "${opts.role}": use ${OPERATOR_ROLES.join(', ')}`);
      const actor = await actorFor(ctx, opts.as, 'admin', 'manage operators');
      const { operator: added, token } = await ctx.operators.add(name, role.data, actor, ctx.now());
      if (opts.json) return printJson({ name: added.name, role: added.role, token });
      process.stdout.write(`${token}\n`);
    }),
  );

  operator
    .command('list')
    .description('registered operators (never their tokens)')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      run(async (ctx) => {
        const all = (await ctx.operators.list()).map((o) => ({ name: o.name, role: o.role, createdAt: new Date(o.createdAt).toISOString() }));
        if (opts.json) return printJson(all);
        if (all.length === 0) return void process.stdout.write('no operators registered\n');
        process.stdout.write('NAME\tROLE\tCREATED\n');
        for (const o of all) process.stdout.write(`${o.name}\t${o.role}\t${o.createdAt}\n`);
      }),
    );

  withActorOption(operator.command('remove <name>').description('remove an operator: their token and console sign-ins stop working at once')).action(
    (name: string, opts: ActorOption) =>
      run(async (ctx) => {
        const actor = await actorFor(ctx, opts.as, 'admin', 'manage operators');
        if (!(await ctx.operators.remove(name, actor, ctx.now()))) throw new AppError('operator_not_found', `no operator named ${name}`);
        process.stdout.write(`operator ${name} removed\n`);
      }),
  );
}
