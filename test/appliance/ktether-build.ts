// Compiles the ktether entry points (and only what they import) into a private directory inside
// node_modules/.cache, so the CLI tests run the real compiled agent as a child process, exactly
// as `node dist/scripts/ktether.js` runs, without depending on the rest of the tree building.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface KtetherBuild {
  entry: string;
  run(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  remove(): void;
}

export async function buildKtether(): Promise<KtetherBuild> {
  const out = join(ROOT, 'node_modules', '.cache', `ktether-test-${process.pid}-${Date.now()}`);
  mkdirSync(out, { recursive: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // prettier-ignore
  const flags = ['--outDir', out, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--strict', '--noUncheckedIndexedAccess', '--skipLibCheck', '--esModuleInterop', '--types', 'node'];
  await promisify(execFile)(process.execPath, [tsc, ...flags, join(ROOT, 'scripts/ktether.ts'), join(ROOT, 'appliance/daemon/daemon-main.ts')], { cwd: ROOT });
  const entry = join(out, 'scripts', 'ktether.js');
  if (!existsSync(entry)) throw new Error(`build produced no ${entry}`);
  return {
    entry,
    run: (args, env, timeoutMs = 30_000) =>
      new Promise((resolveRun) => {
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
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}
