// `tether engineer add|list|remove`: the engineer registry the relay authenticates against.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { actorFor, withActorOption, type ActorOption } from './actor.js';
import type { OperatorContext } from './operator-context.js';
import { printJson, type Run } from './output.js';

export function registerEngineerCommands(program: Command, run: Run): void {
  const engineer = program.command('engineer').description('manage the engineers who may reach appliances');

  withActorOption(
    engineer
      .command('add <name>')
      .description('register an engineer, or add a public key to one')
      .requiredOption('--pubkey <file>', 'OpenSSH public key file (e.g. ~/.ssh/id_ed25519.pub)'),
  ).action((name: string, opts: ActorOption & { pubkey: string }) =>
      run(async (ctx: OperatorContext) => {
        let text: string;
        try {
          text = readFileSync(opts.pubkey, 'utf8');
        } catch {
          throw new AppError('usage', `cannot read public key file ${opts.pubkey}`);
        }
        const key = parseEngineerKey(text);
        const actor = await actorFor(ctx, opts.as, 'admin', 'manage engineers');
        await ctx.engineers.addKey(name, key, ctx.now());
        await ctx.audit.append('engineer.added', { engineer: name, fingerprint: key.fingerprint, actor }, ctx.now());
        process.stdout.write(`engineer ${name} may now connect with ${key.type} ${key.fingerprint}\n`);
      }),
    );

  engineer
    .command('list')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      run(async (ctx) => {
        const all = await ctx.engineers.list();
        if (opts.json) return printJson(all.map((e) => ({ name: e.name, keys: e.keys.map((k) => ({ type: k.type, fingerprint: k.fingerprint, comment: k.comment })) })));
        if (all.length === 0) return void process.stdout.write('no engineers registered\n');
        for (const e of all) for (const k of e.keys) process.stdout.write(`${e.name}\t${k.type}\t${k.fingerprint}\t${k.comment}\n`);
      }),
    );

  withActorOption(
    engineer
      .command('remove <name>')
      .description("remove an engineer, or one of their keys; every relay ends the engineer's open connections at once")
      .option('--key <fingerprint>', 'remove only this key (SHA256:… as `tether engineer list` shows it)'),
  ).action((name: string, opts: ActorOption & { key?: string }) =>
      run(async (ctx) => {
        const actor = await actorFor(ctx, opts.as, 'admin', 'manage engineers');
        if (opts.key) {
          if (!(await ctx.engineers.removeKey(name, opts.key, actor, ctx.now()))) throw new AppError('engineer_not_found', `engineer ${name} has no key ${opts.key}`);
          return void process.stdout.write(`key ${opts.key} of engineer ${name} removed; connections made with it are closed\n`);
        }
        if (!(await ctx.engineers.remove(name, actor, ctx.now()))) throw new AppError('engineer_not_found', `no engineer named ${name}`);
        process.stdout.write(`engineer ${name} removed; their open connections are closed\n`);
      }),
    );
}
