// `tether key issue`: mints a key and its session; prints the key alone (or the record with --json).
import type { Command } from 'commander';
import { parseDuration } from '../../shared/duration.js';
import { AppError } from '../../shared/errors.js';
import { isMailAddress } from '../../shared/mail/mail-address.js';
import { productSchema } from '../../shared/key/tether-key.schema.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { sessionView, ticketRefSchema } from '../../shared/session/session.schema.js';
import { handOverKeyForDelivery } from '../../queues/key-handover.js';
import { keyTextSecretFrom, RedisKeyTextStore } from '../../queues/redis-key-text.store.js';
import { Producers } from '../../queues/producers.js';
import { keyRelays } from '../runtime.js';
import { actorFor, withActorOption } from './actor.js';
import { printJson, type Run } from './output.js';

interface IssueOptions {
  serial: string;
  product: string;
  version?: string;
  ttl: string;
  ports?: string;
  ticket?: string;
  email?: string;
  customerPassword?: boolean;
  grant?: string;
  json?: boolean;
  as?: string;
}

export function parsePorts(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const ports = text.split(',').map((p) => p.trim());
  if (ports.some((p) => !/^\d{1,5}$/.test(p))) throw new AppError('usage', `invalid --ports "${text}": use a comma-separated list such as 22,80,443`);
  return ports.map(Number);
}

export function parseTicket(text: string | undefined) {
  if (text === undefined) return undefined;
  const i = text.indexOf(':');
  const r = ticketRefSchema.safeParse({ system: text.slice(0, i), id: text.slice(i + 1) });
  if (i < 1 || !r.success) throw new AppError('usage', `invalid --ticket "${text}": use SYSTEM:ID, e.g. generic:4711`);
  return r.data;
}

export function registerKeyCommands(program: Command, run: Run): void {
  const key = program.command('key').description('tether keys');
  withActorOption(key.command('issue'))
    .description('mint a tether key for an appliance')
    .requiredOption('--serial <sn>', 'appliance serial number')
    .requiredOption('--product <product>', 'sma or sda')
    .option('--version <v>', 'appliance version (e.g. 10.1)')
    .option('--ttl <duration>', 'life of the key: 90s, 2h, 7d, 12w (at most 12w)', '7d')
    .option('--ports <list>', 'ports engineers may reach (default: SMA 22,80,443,3306; SDA 22,80,443)')
    .option('--ticket <system:id>', 'help-desk ticket this tether belongs to')
    .option('--email <addr>', 'mail the key to this address (through the key-delivery queue; workers must run)')
    .option('--customer-password', 'let the customer choose the support password on the appliance')
    .option('--grant <engineers>', 'engineers who may reach this session (comma-separated; TETHER_ENGINEER_POLICY=assigned)')
    .option('--json', 'print the session record with the key')
    .action((opts: IssueOptions) =>
      run(async (ctx) => {
        const product = productSchema.safeParse(opts.product.toLowerCase());
        if (!product.success) throw new AppError('usage', `invalid --product "${opts.product}": use sma or sda`);
        if (opts.email !== undefined && !isMailAddress(opts.email)) throw new AppError('usage', `invalid --email "${opts.email}": must be a mail address`);
        // Before anything is written: without the server's keys under TETHER_HOME the command stops here.
        const signingKey = ctx.signingKey();
        const relay = keyRelays(ctx.config, ctx.relayHostKey());
        const actor = await actorFor(ctx, opts.as, 'admin', 'issue keys');
        const grants = (opts.grant ?? '').split(',').map((g) => g.trim()).filter(Boolean);
        for (const name of grants) if (!(await ctx.engineers.get(name))) throw new AppError('engineer_not_found', `--grant ${name}: no engineer named ${name}`);
        const issued = await issueKey(
          {
            serial: opts.serial,
            product: product.data,
            version: opts.version,
            ttlMs: parseDuration(opts.ttl),
            ports: parsePorts(opts.ports),
            ticket: parseTicket(opts.ticket),
            email: opts.email,
            passwordMode: opts.customerPassword ? 'customer' : 'generated',
            actor,
          },
          // Enrolled appliances get a sealed key, also pushed to their inbox; the password goes into custody.
          { sessions: ctx.sessions, signingKey, relay, now: () => ctx.now(), appliances: ctx.appliances, credentials: ctx.credentials },
        );
        for (const name of grants) await ctx.access.grant(issued.session, name, actor, ctx.now());
        if (opts.email) {
          // The same path as ticket-provisioned keys: sealed key text in Redis, a key-delivery job.
          const producers = new Producers({ connection: ctx.redis, prefix: ctx.config.redisPrefix });
          try {
            const keyTexts = new RedisKeyTextStore(ctx.redis, ctx.config.redisPrefix, keyTextSecretFrom(signingKey.privateKey));
            await handOverKeyForDelivery({ keyTexts, producers, now: () => ctx.now() }, issued);
          } finally {
            await producers.close();
          }
        }
        if (opts.json) return printJson({ ...sessionView(issued.session), key: issued.key, sealed: issued.sealed, pushed: issued.pushed });
        process.stdout.write(`${issued.key}\n`);
      }),
    );
}
