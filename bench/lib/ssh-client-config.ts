// An OpenSSH client config for one loopback host as the benchmarks write it: a Host alias with its
// own key only, the server's host key pinned in a private known_hosts, batch mode (never a prompt).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SshClientHost {
  alias: string;
  port: number;
  user: string;
  identityFile: string;
  /** The server's host public key, `<type> <base64> [comment]`. */
  hostKeyLine: string;
}

/** Writes `known_hosts` and `ssh_config` into `dir`; returns the config's path (for `ssh -F`). */
export function writeSshClientConfig(dir: string, host: SshClientHost): string {
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${host.port} ${host.hostKeyLine}\n`);
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(
    sshConfig,
    [
      `Host ${host.alias}`,
      '  HostName 127.0.0.1',
      `  Port ${host.port}`,
      `  User ${host.user}`,
      `  IdentityFile ${host.identityFile}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
  return sshConfig;
}
