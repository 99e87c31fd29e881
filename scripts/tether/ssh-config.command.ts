// `tether ssh-config`: prints the OpenSSH config block for an engineer (shared/ssh-config.ts), with
// the relay endpoint and host key of this installation.
import type { Command } from 'commander';
import { DEFAULT_IDENTITY, DEFAULT_RELAY_ALIAS, renderSshConfig } from '../../shared/ssh-config.js';
import { keyRelays } from '../runtime.js';
import type { Run } from './output.js';
import { AppError } from '../../shared/errors.js';

export function registerSshConfigCommand(program: Command, run: Run): void {
  program
    .command('ssh-config')
    .description('print the OpenSSH config block for an engineer')
    .requiredOption('--engineer <name>', 'engineer name registered with `tether engineer add`')
    .option('--identity <file>', 'the engineer private key file', DEFAULT_IDENTITY)
    .option('--alias <name>', 'Host alias for the relay', DEFAULT_RELAY_ALIAS)
    .action((opts: { engineer: string; identity: string; alias: string }) =>
      run(async (ctx) => {
        // A block for a name the relay does not know would only ever be refused.
        if (!(await ctx.engineers.get(opts.engineer))) throw new AppError('engineer_not_found', `no engineer named ${opts.engineer}: register one with tether engineer add`);
        const hostKey = ctx.relayHostKey();
        const relay = keyRelays(ctx.config, hostKey);
        process.stdout.write(
          renderSshConfig({ alias: opts.alias, host: relay.host, port: relay.port, engineer: opts.engineer, identity: opts.identity, hostKeyLine: hostKey.publicLine }),
        );
      }),
    );
}
