// The compiled ktether CLI (`dist/scripts/ktether.js`, built by `npm run build`, which
// scripts/test runs first), run as a child process exactly as on an appliance.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dist, runToEnd, type RunResult } from '../helpers/processes.js';

export interface KtetherBuild {
  entry: string;
  run(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<RunResult>;
  remove(): void;
}

export async function buildKtether(): Promise<KtetherBuild> {
  const entry = dist('ktether');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first (scripts/test does)`);
  return {
    entry,
    // Only PATH is inherited, so the agent sees nothing of the test runner's environment.
    run: (args, env, timeoutMs = 30_000) => runToEnd(spawn(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs),
    remove: () => undefined,
  };
}
