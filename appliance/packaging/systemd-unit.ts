// The systemd unit of the resident agent, rendered for one appliance (node, the compiled ktether,
// KTETHER_HOME, the page's address, what the account provider must write). ktether.service beside
// this file is the same unit with the defaults of an appliance image (a test keeps them equal).
import type { AccountProviderKind } from '../agent-config.js';

export interface UnitValues {
  node: string;
  ktether: string;
  home: string;
  uiListen: string;
  accounts: AccountProviderKind;
}

export const UNIT_DEFAULTS: Readonly<UnitValues> = {
  node: '/usr/bin/node',
  ktether: '/opt/ktether/dist/scripts/ktether.js',
  home: '/var/lib/ktether',
  uiListen: '127.0.0.1:8442',
  accounts: 'file',
};

/** systemd unquotes `"…"` in Environment= and ExecStart=; paths with spaces or quotes are refused. */
function plain(value: string, what: string): string {
  if (!/^[A-Za-z0-9_@%+=:,./[\]-]+$/.test(value)) throw new Error(`${what} "${value}" cannot go into a unit file unquoted`);
  return value;
}

export function renderUnit(v: UnitValues): string {
  const home = plain(v.home, 'KTETHER_HOME');
  // The linux provider runs useradd/chpasswd/userdel: they rewrite /etc/passwd and /etc/shadow (with
  // lock files beside them) and make /home/kace_support. The file provider writes only KTETHER_HOME.
  const writable = v.accounts === 'linux' ? `${home} /etc /home -/var/mail -/var/spool/mail` : home;
  const home2 = v.accounts === 'linux' ? '' : 'ProtectHome=yes\n';
  return `# ktether: the appliance's tether agent as a resident service, with its Tether page on loopback.
# Written by \`ktether install-service\` (appliance/README.md, "On an appliance image").
# Stopping the service leaves an enabled tether to resume at the next start; only \`ktether disable\`
# (or Disable Tether on the page) ends it.
[Unit]
Description=ktether: tether agent and Tether page
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
Environment=KTETHER_HOME=${home}
Environment=KTETHER_UI_LISTEN=${plain(v.uiListen, 'KTETHER_UI_LISTEN')}
ExecStart=${plain(v.node, 'node')} ${plain(v.ktether, 'ktether')} service
Restart=on-failure
RestartSec=2
TimeoutStopSec=15
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${writable}
${home2}PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}
