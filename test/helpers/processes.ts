// Child processes for end-to-end tests: the compiled entry points (`dist/`) run as they do in
// production, with their output collected and waited on by pattern.
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const dist = (entry: string) => resolve(ROOT, 'dist', 'scripts', `${entry}.js`);

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNode(entry: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RunResult> {
  return runToEnd(spawn(process.execPath, [dist(entry), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
}

/** Collects a child's output until it ends; one still running after `timeoutMs` is killed. */
export function runToEnd(child: ChildProcessByStdio<null, Readable, Readable>, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolveRun) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

export interface LongRunning {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startNode(entry: string, args: string[], env: NodeJS.ProcessEnv): LongRunning {
  const child = spawn(process.execPath, [dist(entry), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 15_000) {
      const m = out.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`)), timeoutMs);
        waiters.push({ pattern, resolve: (mm) => (clearTimeout(timer), res(mm)) });
      });
    },
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((res) => {
        child.once('exit', () => res());
        child.kill(signal);
      });
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
type Falsy = false | 0 | '' | null | undefined;

export async function eventually<T>(check: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
