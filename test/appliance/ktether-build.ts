// The compiled ktether CLI (`dist/scripts/ktether.js`, built by `npm run build`, which
// scripts/test runs first), run as a child process exactly as on an appliance.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dist } from '../helpers/processes.js';

export interface KtetherBuild {
  entry: string;
  run(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  remove(): void;
}

export async function buildKtether(): Promise<KtetherBuild> {
  const entry = dist('ktether');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first (scripts/test does)`);
  return {
    entry,
    run: (args, env, timeoutMs = 30_000) =>
      new Promise((resolveRun) => {
        // Only PATH is inherited, so the agent sees nothing of the test runner's environment.
        const child = spawn(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolveRun({ code, stdout, stderr });
        });
      }),
    remove: () => undefined,
  };
}
