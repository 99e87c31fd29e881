// Runs a system command without a shell, feeding optional stdin (passwords go there, never into
// argv). Injected into the linux account provider so tests can check command lines without running them.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (command: string, args: readonly string[], opts?: { stdin?: string }) => Promise<CommandResult>;

/** User-management tools live in sbin, which a non-login PATH may lack. */
function withSbin(path: string | undefined): string {
  const parts = (path ?? '/usr/bin:/bin').split(':');
  for (const dir of ['/usr/sbin', '/sbin']) if (!parts.includes(dir)) parts.push(dir);
  return parts.join(':');
}

export const spawnCommandRunner: CommandRunner = (command, args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, [...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PATH: withSbin(process.env.PATH), LC_ALL: 'C' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {}); // the command may exit before reading stdin
    child.stdin.end(opts.stdin ?? '');
  });
