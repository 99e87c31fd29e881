// The server as benchmarks run it: `dist/scripts/serve.js` in a child process with the given
// environment and roles, SMTP capture on, resolved once it prints its ready line.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { killOnExit } from './kill-on-exit.js';

export const SERVE_ENTRY = join(resolve(import.meta.dirname, '..', '..'), 'scripts', 'serve.js');

export function startServe(env: NodeJS.ProcessEnv, roles = 'api,workers,relay'): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [SERVE_ENTRY, '--roles', roles, '--smtp-capture'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  return new Promise((resolveStart, reject) => {
    const onData = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      if (/ready: /.test(out)) resolveStart({ child, output: () => out });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before it was ready:\n${out}`)));
  });
}
