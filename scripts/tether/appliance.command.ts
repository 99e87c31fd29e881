// `tether appliance token|list`: single-use enrolment tokens for `ktether enroll`, and the enrolled
// appliances. The token is printed once and only its digest is stored.
import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../../shared/duration.js';
import { AppError } from '../../shared/errors.js';
import { serialSchema } from '../../shared/key/tether-key.schema.js';
import { MAX_TOKEN_TTL_MS } from '../../shared/store/appliance.store.js';
import { actorFor, withActorOption, type ActorOption } from './actor.js';
import { printJson, type Run } from './output.js';

export function registerApplianceCommands(program: Command, run: Run): void {
  const appliance = program.command('appliance').description('appliance enrolment (one-click, sealed keys, push)');

  withActorOption(
    appliance
      .command('token')
      .description('print a single-use enrolment token for `ktether enroll --api URL --token T`')
      .requiredOption('--serial <sn>', 'the appliance serial the token is for')
      .option('--ttl <duration>', `how long the token may be used (at most ${formatDuration(MAX_TOKEN_TTL_MS)})`, '15m'),
  ).action((opts: ActorOption & { serial: string; ttl: string }) =>
      run(async (ctx) => {
        const serial = serialSchema.safeParse(opts.serial);
        if (!serial.success) throw new AppError('usage', `invalid --serial "${opts.serial}": ${serial.error.issues[0]?.message}`);
        const ttlMs = parseDuration(opts.ttl);
        if (ttlMs > MAX_TOKEN_TTL_MS) throw new AppError('usage', `--ttl ${opts.ttl} is too long: enrolment tokens live at most ${formatDuration(MAX_TOKEN_TTL_MS)}`);
        const actor = await actorFor(ctx, opts.as, 'admin', 'enrol appliances');
        const { token, expiresAt } = await ctx.appliances.issueToken(serial.data, ttlMs, ctx.now());
        await ctx.audit.append('appliance.token_issued', { serial: serial.data, actor, expiresAt }, ctx.now());
        process.stdout.write(`${token}\n`);
      }),
    );

  appliance
    .command('list')
    .description('enrolled appliances')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      run(async (ctx) => {
        const all = await ctx.appliances.list();
        const view = all.map((a) => ({
          serial: a.serial,
          product: a.product,
          version: a.version,
          enrolledAt: new Date(a.enrolledAt).toISOString(),
          updatedAt: new Date(a.updatedAt).toISOString(),
        }));
        if (opts.json) return printJson(view);
        if (view.length === 0) return void process.stdout.write('no appliances enrolled\n');
        process.stdout.write('SERIAL\tPRODUCT\tVERSION\tENROLLED\n');
        for (const a of view) process.stdout.write(`${a.serial}\t${a.product}\t${a.version}\t${a.enrolledAt}\n`);
      }),
    );
}
