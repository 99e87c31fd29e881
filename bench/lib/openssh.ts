// OpenSSH's own sshd as the comparison middle box: installs Debian's openssh-server when missing
// (services kept from starting), then runs a private `sshd -D` on 127.0.0.1 with its own config,
// host key and authorized_keys in a temp dir. Never touches the system service or /etc/ssh.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { killOnExit } from './kill-on-exit.js';
import { freePort } from './redis-server.js';
import { writeSshClientConfig } from './ssh-client-config.js';

export const SSHD = '/usr/sbin/sshd';
export const SSHD_ALIAS = 'bench-sshd';
const POLICY_RC = '/usr/sbin/policy-rc.d';

export function sshdVersion(): string {
  // sshd has no version flag; `-V` makes it print its version (or its usage, with the version).
  const r = spawnSync(SSHD, ['-V'], { encoding: 'utf8' });
  const version = `${r.stdout ?? ''}${r.stderr ?? ''}`.match(/OpenSSH_[^\s,]+/)?.[0] ?? 'OpenSSH (version unknown)';
  const deb = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'openssh-server'], { encoding: 'utf8' });
  return deb.status === 0 && deb.stdout ? `${version} (Debian ${deb.stdout.trim()})` : version;
}

/** Installs openssh-server from Debian if /usr/sbin/sshd is missing. A policy-rc.d that answers
 * 101 keeps apt from starting the system service; an existing one is left as it is. */
export function ensureSshd(log: (line: string) => void): void {
  if (existsSync(SSHD)) return;
  if (process.getuid?.() !== 0) throw new Error(`${SSHD} is missing: install it with: sudo apt-get install -y openssh-server`);
  log('installing openssh-server (Debian) for the comparison sshd; the system service is not started');
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\n# written by the tether benchmark while installing openssh-server\nexit 101\n', { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'openssh-server'], { env, stdio: 'pipe' });
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'pipe' });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'openssh-server'], { env, stdio: 'pipe' });
    }
  } finally {
    if (ownPolicy) unlinkSync(POLICY_RC);
  }
  if (!existsSync(SSHD)) throw new Error('openssh-server was installed but /usr/sbin/sshd is still missing');
}

export interface PrivateSshd {
  pid: number;
  port: number;
  /** OpenSSH client config with a `Host bench-sshd` block (user, key, pinned host key). */
  sshConfig: string;
  output(): string;
  stop(): Promise<void>;
}

async function waitListening(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}):\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startPrivateSshd(): Promise<PrivateSshd> {
  // Debian's sshd refuses to start without its privilege-separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-sshd-'));
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const userKey = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-sshd-host', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-sshd-user', '-f', userKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${userKey}.pub`));
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      // The temp dir sits under world-writable /tmp, which StrictModes would refuse.
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'GatewayPorts no',
      'PrintMotd no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const sshConfig = writeSshClientConfig(dir, {
    alias: SSHD_ALIAS,
    port,
    user: userInfo().username,
    identityFile: userKey,
    hostKeyLine: readFileSync(`${hostKey}.pub`, 'utf8').trim(),
  });
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await waitListening(port, child, () => out);
  return {
    pid: child.pid ?? 0,
    port,
    sshConfig,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
