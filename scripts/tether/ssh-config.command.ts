// `tether ssh-config`: the OpenSSH config block an engineer pastes so `ssh -J tether-relay …`
// works at once. `-J` ignores -i/-o for the jump hop, so identity and the pinned relay host key
// must live in the config; KnownHostsCommand carries the pin inside the block itself.
import type { Command } from 'commander';
import { loadOrCreateRelayHostKey } from '../../shared/key/key-files.js';
import { relayEndpoint } from '../runtime.js';
import type { Run } from './output.js';

export interface SshConfigInput {
  alias: string;
  host: string;
  port: number;
  engineer: string;
  identity: string;
  hostKeyLine: string;
}

export function renderSshConfig(i: SshConfigInput): string {
  const [type, b64] = i.hostKeyLine.split(/\s+/);
  return [
    `# Tether relay: reach an appliance with  ssh -J ${i.alias} kace_support@SERIAL`,
    `# or forward a port with  ssh -N -L 8443:SERIAL:443 ${i.alias}`,
    `Host ${i.alias}`,
    `  HostName ${i.host}`,
    `  Port ${i.port}`,
    `  User ${i.engineer}`,
    `  IdentityFile ${i.identity}`,
    `  IdentitiesOnly yes`,
    `  HostKeyAlias ${i.alias}`,
    `  StrictHostKeyChecking yes`,
    `  UserKnownHostsFile /dev/null`,
    `  GlobalKnownHostsFile /dev/null`,
    `  KnownHostsCommand /bin/echo ${i.alias} ${type} ${b64}`,
    `  ServerAliveInterval 15`,
    '',
  ].join('\n');
}

export function registerSshConfigCommand(program: Command, run: Run): void {
  program
    .command('ssh-config')
    .description('print the OpenSSH config block for an engineer')
    .requiredOption('--engineer <name>', 'engineer name registered with `tether engineer add`')
    .option('--identity <file>', 'the engineer private key file', '~/.ssh/id_ed25519')
    .option('--alias <name>', 'Host alias for the relay', 'tether-relay')
    .action((opts: { engineer: string; identity: string; alias: string }) =>
      run(async (ctx) => {
        const relay = relayEndpoint(ctx.config);
        const hostKey = loadOrCreateRelayHostKey(ctx.config.home);
        process.stdout.write(
          renderSshConfig({ alias: opts.alias, host: relay.host, port: relay.port, engineer: opts.engineer, identity: opts.identity, hostKeyLine: hostKey.publicLine }),
        );
      }),
    );
}
