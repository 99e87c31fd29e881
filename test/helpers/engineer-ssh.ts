// The engineer's side: a key pair made by ssh-keygen, the config block from `tether ssh-config`,
// and the stock OpenSSH client run against the relay.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EngineerIdentity {
  dir: string;
  keyFile: string;
  pubFile: string;
  pubLine: string;
}

export function makeEngineerIdentity(name: string): EngineerIdentity {
  const dir = mkdtempSync(join(tmpdir(), `tether-eng-${name}-`));
  const keyFile = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', keyFile]);
  return { dir, keyFile, pubFile: `${keyFile}.pub`, pubLine: readFileSync(`${keyFile}.pub`, 'utf8').trim() };
}

export interface SshResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `ssh` with the given config file; stdin is written then closed. */
export function runSsh(configFile: string, args: string[], input: Buffer | string = '', opts: { timeoutMs?: number; logLevel?: 'ERROR' | 'INFO' } = {}): Promise<SshResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve) => {
    // ERROR keeps known-hosts chatter out of stderr; INFO shows "open failed: <reason>" lines.
    const level = opts.logLevel ?? 'ERROR';
    const child = spawn('ssh', ['-F', configFile, '-o', 'BatchMode=yes', '-o', `LogLevel=${level}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Writes an ssh config: the relay block as `tether ssh-config` prints it, then the engineer's defaults for appliances. */
export function writeSshConfig(dir: string, relayBlock: string, identityFile = join(dir, 'id_ed25519')): string {
  const file = join(dir, 'ssh_config');
  writeFileSync(
    file,
    `${relayBlock}\nHost *\n  UserKnownHostsFile ${join(dir, 'known_hosts')}\n  StrictHostKeyChecking accept-new\n  IdentityFile ${identityFile}\n  IdentitiesOnly yes\n`,
  );
  return file;
}
