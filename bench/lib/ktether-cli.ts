// The compiled agent CLI (`dist/scripts/ktether.js`) run once on a simulated appliance's
// KTETHER_HOME, timed to its exit: what the appliance benchmarks spawn for init, enroll, enable, disable.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const KTETHER_ENTRY = join(resolve(import.meta.dirname, '..', '..'), 'scripts', 'ktether.js');

export interface KtetherRun {
  code: number | null;
  out: string;
  /** performance.now() at the child's exit. */
  exitedAt: number;
}

/** Killed (SIGKILL) after `timeoutMs`, which then resolves with a null code. */
export function runKtether(ktether: string, home: string, args: string[], timeoutMs = 180_000): Promise<KtetherRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [ktether, ...args], { env: { ...process.env, KTETHER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      const exitedAt = performance.now();
      clearTimeout(timer);
      // Output may still be in flight after 'exit'; the code and the time are what matter here.
      setImmediate(() => done({ code, out, exitedAt }));
    });
  });
}
