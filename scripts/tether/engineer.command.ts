// `tether engineer add|list|remove`: the engineer registry the relay authenticates against.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { parseDuration } from '../../shared/duration.js';
import { helpDeskIdentity } from '../../shared/store/access.store.js';
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
      .requiredOption('--pubkey <file>', 'OpenSSH public key file (e.g. ~/.ssh/id_ed25519.pub)')
      .option('--expires <duration>', 'the relay refuses this key after this long: 90d, 12w, …'),
  ).action((name: string, opts: ActorOption & { pubkey: string; expires?: string }) =>
      run(async (ctx: OperatorContext) => {
        let text: string;
        try {
          text = readFileSync(opts.pubkey, 'utf8');
        } catch {
          throw new AppError('usage', `cannot read public key file ${opts.pubkey}`);
        }
        const parsed = parseEngineerKey(text);
        const expiresAt = opts.expires === undefined ? undefined : ctx.now() + parseDuration(opts.expires);
        const key = expiresAt === undefined ? parsed : { ...parsed, expiresAt };
        const actor = await actorFor(ctx, opts.as, 'admin', 'manage engineers');
        // The key and its `engineer.added` audit entry are written in one step.
        await ctx.engineers.addKey(name, key, actor, ctx.now());
        const until = expiresAt ? ` until ${new Date(expiresAt).toISOString()}` : '';
        process.stdout.write(`engineer ${name} may now connect with ${key.type} ${key.fingerprint}${until}\n`);
      }),
    );

  engineer
    .command('list')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      run(async (ctx) => {
        const all = await ctx.engineers.list();
        const ids = await ctx.access.identities();
        const idsOf = (name: string) => ids.filter((i) => i.engineer === name).map((i) => i.identity);
        const expiry = (k: { expiresAt?: number | undefined }) => (k.expiresAt ? new Date(k.expiresAt).toISOString() : undefined);
        if (opts.json) {
          return printJson(all.map((e) => ({ name: e.name, helpDeskIds: idsOf(e.name), keys: e.keys.map((k) => ({ type: k.type, fingerprint: k.fingerprint, comment: k.comment, expiresAt: expiry(k) })) })));
        }
        if (all.length === 0) return void process.stdout.write('no engineers registered\n');
        for (const e of all) {
          for (const k of e.keys) process.stdout.write(`${e.name}\t${k.type}\t${k.fingerprint}\t${expiry(k) ? `expires ${expiry(k)}` : 'no expiry'}\t${k.comment}\n`);
          for (const id of idsOf(e.name)) process.stdout.write(`${e.name}\thelp desk identity\t${id}\n`);
        }
      }),
    );

  withActorOption(
    engineer
      .command('map <name>')
      .description("map a help desk identity (the ticket assignee's e-mail or login) to this engineer")
      .requiredOption('--help-desk-id <system:id>', 'e.g. zendesk:alice@vendor.example or github:alice')
      .option('--remove', 'remove the mapping instead'),
  ).action((name: string, opts: ActorOption & { helpDeskId: string; remove?: boolean }) =>
    run(async (ctx) => {
      const actor = await actorFor(ctx, opts.as, 'admin', 'manage engineers');
      const at = opts.helpDeskId.indexOf(':');
      const identity = helpDeskIdentity(opts.helpDeskId.slice(0, Math.max(at, 0)), opts.helpDeskId.slice(at + 1));
      if (opts.remove) {
        if (!(await ctx.access.unmapIdentity(identity))) throw new AppError('engineer_not_found', `no mapping for ${identity}`);
        await ctx.audit.append('engineer.unmapped', { engineer: name, identity, actor }, ctx.now());
        return void process.stdout.write(`${identity} no longer maps to an engineer\n`);
      }
      if (!(await ctx.engineers.get(name))) throw new AppError('engineer_not_found', `no engineer named ${name}`);
      await ctx.access.mapIdentity(identity, name);
      await ctx.audit.append('engineer.mapped', { engineer: name, identity, actor }, ctx.now());
      process.stdout.write(`tickets assigned to ${identity} now let ${name} reach their sessions\n`);
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
