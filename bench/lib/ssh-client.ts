// The stock OpenSSH client as a child process: `-v` output kept to read the negotiated cipher and
// to wait for events (e.g. a remote forward granted), stdin fed from a generator or read from a file when asked.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';

export interface SshChild {
  child: ChildProcess;
  stderr(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `stdin`: a pipe to write to; `stdinFile`: ssh reads that file itself (no feeder in this process). */
export function startSsh(configFile: string, args: string[], opts: { stdin?: boolean; stdinFile?: string } = {}): SshChild {
  const fd = opts.stdinFile ? openSync(opts.stdinFile, 'r') : undefined;
  let child: ChildProcess;
  try {
    child = spawn('ssh', ['-v', '-F', configFile, ...args], { stdio: [fd ?? (opts.stdin ? 'pipe' : 'ignore'), 'ignore', 'pipe'] });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let err = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    // Only the first part matters (handshake, forwards); later lines are per-channel chatter.
    if (err.length < 64_000) err += d.toString();
    for (const w of [...waiters]) {
      const m = err.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      const m = err.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`ssh: timed out waiting for ${pattern}:\n${err.slice(-2_000)}`)), timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`ssh exited (${code}) before ${pattern}:\n${err.slice(-2_000)}`));
        });
        waiters.push({ pattern, resolve: (mm) => (clearTimeout(timer), resolve(mm)) });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `client->server cipher` and `server->client cipher` from `ssh -v` output. */
export function negotiatedCipher(verbose: string): { cs: string; sc: string } | undefined {
  const cs = verbose.match(/kex: client->server cipher: (\S+)/)?.[1];
  const sc = verbose.match(/kex: server->client cipher: (\S+)/)?.[1];
  return cs && sc ? { cs, sc } : undefined;
}

/** Writes `total` bytes of incompressible data with backpressure, then ends the stream. */
export async function feed(dst: Writable, total: number): Promise<void> {
  const block = randomBytes(1 << 20);
  dst.on('error', () => undefined);
  let left = total;
  while (left > 0) {
    const chunk = left >= block.length ? block : block.subarray(0, left);
    left -= chunk.length;
    if (!dst.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => (dst.off('drain', done), dst.off('close', done), resolve());
        dst.once('drain', done);
        dst.once('close', done);
      });
      if (dst.destroyed) return;
    }
  }
  dst.end();
}
