// The OpenSSH config block an engineer pastes so `ssh -J tether-relay …` works at once, and the
// command to reach each port of a session through it. `-J` ignores -i/-o for the jump hop, so
// identity and the pinned relay host key must live in the config; KnownHostsCommand carries the pin
// inside the block itself. Pure text: the CLI and the operator API print the same.

export interface SshConfigInput {
  alias: string;
  host: string;
  port: number;
  engineer: string;
  identity: string;
  /** The relay host key's OpenSSH public line (`ssh-ed25519 AAAA… comment`). */
  hostKeyLine: string;
}

export const DEFAULT_RELAY_ALIAS = 'tether-relay';
export const DEFAULT_IDENTITY = '~/.ssh/id_ed25519';

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

/** Local port of a forward: privileged ports move up (443 → 8443), others by 10000 (3306 → 13306). */
export function localPortFor(port: number): number {
  return port < 1024 ? 8000 + port : 10_000 + port;
}

/** One command per port: a login on 22 (jump), a local forward for the others. */
export function portCommands(alias: string, serial: string, user: string, ports: readonly number[]): { port: number; command: string }[] {
  return ports.map((port) =>
    port === 22
      ? { port, command: `ssh -J ${alias} ${user}@${serial}` }
      : { port, command: `ssh -N -L ${localPortFor(port)}:${serial}:${port} ${alias}` },
  );
}
