// The pipeline workers in a child process of their own (worker-child.ts), on a pipeline harness's
// home and Redis prefix, so a test can SIGKILL them mid-job; resolves once the child says "ready".
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { ADMIN_TOKEN, WEBHOOK_SECRET, type Harness } from './pipeline-harness.js';

/** `env` adds to (or overrides) the harness's settings; `SMTP_URL` is the mail server to use. */
export function startWorkerProcess(h: Harness, env: NodeJS.ProcessEnv & { SMTP_URL: string }, onSpawn?: (child: ChildProcess) => void): Promise<ChildProcess> {
  const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
  const child = spawn(process.execPath, ['--import', here('./register-ts.mjs'), here('./worker-child.ts')], {
    env: {
      PATH: process.env.PATH,
      TETHER_HOME: h.home,
      REDIS_URL: inject('redisUrl'),
      TETHER_REDIS_PREFIX: h.prefix,
      TETHER_MAIL_FROM: 'Tether <tether@vendor.example>',
      TETHER_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TETHER_ADMIN_TOKEN: ADMIN_TOKEN,
      TETHER_TICKET_COMMENT_URL: h.comments.url,
      TETHER_LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code}: ${err}`)));
  });
}
