// `tether session credentials ID --engineer NAME`: reveals a session's generated support password
// to a registered engineer. Every reveal (and every refusal) is audited before anything is shown;
// a closed session's password is destroyed, so there is nothing to reveal.
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import type { OperatorContext } from './operator-context.js';
import { printJson, type Run } from './output.js';

export async function revealPassword(ctx: OperatorContext, sid: string, engineer: string): Promise<{ serial: string; password: string }> {
  const refuse = async (why: string, err: AppError): Promise<never> => {
    await ctx.audit.append('credential.reveal_refused', { sid, engineer, actor: 'operator', why }, ctx.now());
    throw err;
  };
  if (!(await ctx.engineers.get(engineer))) {
    return refuse('engineer not registered', new AppError('engineer_not_authorised', `engineer "${engineer}" is not registered: only registered engineers may see support passwords`));
  }
  const session = await ctx.sessions.require(sid);
  if (session.state === 'CLOSED') {
    // The audit bridge destroys it on close; doing it here too leaves no window.
    await ctx.credentials.destroy(sid);
    return refuse('session closed', new AppError('credentials_unavailable', `session ${sid} is closed: its support password was destroyed`));
  }
  const password = await ctx.credentials.reveal(sid);
  if (password === null) {
    return refuse('no password held', new AppError('credentials_unavailable', `no support password is held for session ${sid}: the customer chose it on the appliance, or it is no longer held`));
  }
  await ctx.audit.append('credential.revealed', { sid, serial: session.serial, engineer, actor: 'operator' }, ctx.now());
  return { serial: session.serial, password };
}

export function registerCredentialCommands(program: Command, run: Run): void {
  const session = program.command('session').description('one session');
  session
    .command('credentials <id>')
    .description('reveal the support password (kace_support) of a live session to a registered engineer; audited')
    .requiredOption('--engineer <name>', 'the engineer who will use it (must be registered)')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { engineer: string; json?: boolean }) =>
      run(async (ctx) => {
        const { serial, password } = await revealPassword(ctx, id, opts.engineer);
        if (opts.json) return printJson({ session: id, serial, user: 'kace_support', password });
        process.stdout.write(`${password}\n`);
      }),
    );
}
