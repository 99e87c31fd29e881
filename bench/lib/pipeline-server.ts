// The ticket pipeline as production runs it, for the pipeline benchmarks: a private Redis (hz 100),
// the compiled server entry (dist/scripts/serve.js) in child processes with the chosen roles, and
// the outside world in this process: the SMTP server the mail goes to (the real smtp-server
// capture) and the generic help desk's comment endpoint (a plain HTTP sink answering 201).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import { createSmtpCapture, outboxDir, type CapturedMail, type SmtpCapture } from '../../shared/mail/smtp-capture.js';
import { openRedis } from '../../shared/redis.js';
import { killOnExit } from './kill-on-exit.js';
import { cpuSeconds } from './proc.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

export const SERVE = resolve(import.meta.dirname, '..', '..', 'scripts', 'serve.js');
export const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789';
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const MAIL_FROM = 'Tether <tether@vendor.example>';

/** A mail as the SMTP server saw it, stamped with this process's monotonic clock. */
export interface ArrivedMail {
  at: number;
  to: string[];
  subject: string;
  bytes: number;
}

export interface ServerProcess {
  roles: string;
  pid: number;
  output(): string;
  /** Lines the child printed that look like warnings or errors (pino level ≥ 40). */
  problems(): string[];
}

export interface PipelineStack {
  home: string;
  prefix: string;
  redisServer: RedisServerHandle;
  redis: Redis;
  smtp: SmtpCapture;
  /** Every mail the SMTP server accepted, in order. */
  mails: ArrivedMail[];
  onMail(fn: (m: ArrivedMail) => void): void;
  comments: { count: number };
  servers: ServerProcess[];
  apiUrl: string | undefined;
  serverCpuSeconds(): number;
  redisCpuSeconds(): number;
  close(): Promise<void>;
}

export interface StackOptions {
  /** One `serve.js` per entry, e.g. ['api,workers'] (the embedded default) or ['api', 'workers']. */
  processes: string[];
  /** Join an existing system (its TETHER_HOME, Redis and prefix) instead of creating one; close() leaves them. */
  attach?: { home: string; prefix: string; redisServer: RedisServerHandle };
  env?: Record<string, string>;
  /** Node flags for the server children (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

function startCommentSink(counter: { count: number }): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      counter.count++;
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function startServe(roles: string, env: NodeJS.ProcessEnv, flags: string[]): Promise<{ child: ChildProcess; proc: ServerProcess; apiUrl?: string }> {
  const child = spawn(process.execPath, [...flags, SERVE, '--roles', roles], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  const problems: string[] = [];
  const keep = (d: Buffer) => {
    const text = d.toString();
    out = (out + text).slice(-16_000);
    for (const line of text.split('\n')) if (/"level":(4|5|6)\d/.test(line) && problems.length < 20) problems.push(line.slice(0, 400));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const proc: ServerProcess = { roles, pid: child.pid ?? 0, output: () => out, problems: () => problems };
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve.js --roles ${roles} did not become ready in 30 s:\n${out}`)), 30_000);
    const onData = () => {
      if (!/^ready: /m.test(out)) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      const api = /api listening on (http:\/\/\S+)/.exec(out)?.[1];
      resolveStart({ child, proc, ...(api ? { apiUrl: api } : {}) });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve.js --roles ${roles} exited (${code}):\n${out}`));
    });
  });
}

export async function startPipelineStack(opts: StackOptions): Promise<PipelineStack> {
  const home = opts.attach?.home ?? mkdtempSync(join(tmpdir(), 'tether-bench-pipeline-'));
  const prefix = opts.attach?.prefix ?? `bench${randomBytes(4).toString('hex')}:`;
  const redisServer = opts.attach?.redisServer ?? (await startRedisServer());
  const owned = !opts.attach;
  // Created once here so that several server processes read the same keys instead of racing.
  loadOrCreateSigningKey(home);
  loadOrCreateRelayHostKey(home);
  const smtp = createSmtpCapture({ outboxDir: outboxDir(home) });
  await smtp.start();
  const mails: ArrivedMail[] = [];
  const listeners: ((m: ArrivedMail) => void)[] = [];
  smtp.onMail((m: CapturedMail) => {
    // The header block is enough for the subject; the body (with the key) is never read here.
    const subject = /^Subject: (.*)$/im.exec(m.raw.subarray(0, 4_096).toString('latin1'))?.[1]?.trim() ?? '';
    const a = { at: performance.now(), to: m.to, subject, bytes: m.raw.length };
    mails.push(a);
    for (const l of listeners) l(a);
  });
  const comments = { count: 0 };
  const sink = await startCommentSink(comments);
  const sinkPort = (sink.address() as AddressInfo).port;
  const env: Record<string, string> = {
    TETHER_HOME: home,
    REDIS_URL: redisServer.url,
    TETHER_REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    TETHER_MAIL_FROM: MAIL_FROM,
    TETHER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    TETHER_ADMIN_TOKEN: ADMIN_TOKEN,
    TETHER_TICKET_COMMENT_URL: `http://127.0.0.1:${sinkPort}/comments`,
    TETHER_API_HOST: '127.0.0.1',
    TETHER_API_PORT: '0',
    // Written into keys only; no relay role runs in these processes unless asked.
    TETHER_RELAY_PORT: '2222',
    TETHER_LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const started: { child: ChildProcess; proc: ServerProcess; apiUrl?: string }[] = [];
  const redis = openRedis(redisServer.url, { name: 'bench-pipeline' });
  const stopChildren = async () => {
    await Promise.all(
      started.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }),
    );
  };
  try {
    // One at a time: each creates its Redis structures (consumer group, scheduler) on start.
    for (const roles of opts.processes) started.push(await startServe(roles, env, opts.nodeFlags ?? []));
  } catch (err) {
    await stopChildren();
    redis.disconnect();
    await smtp.close();
    sink.close();
    if (owned) await redisServer.stop();
    if (owned) rmSync(home, { recursive: true, force: true });
    throw err;
  }
  return {
    home,
    prefix,
    redisServer,
    redis,
    smtp,
    mails,
    onMail: (fn) => listeners.push(fn),
    comments,
    servers: started.map((s) => s.proc),
    apiUrl: started.find((s) => s.apiUrl)?.apiUrl,
    serverCpuSeconds: () => started.reduce((sum, s) => sum + cpuSeconds(s.proc.pid), 0),
    redisCpuSeconds: () => cpuSeconds(redisServer.pid),
    async close() {
      await stopChildren();
      redis.disconnect();
      await smtp.close();
      sink.closeAllConnections();
      await new Promise<void>((r) => sink.close(() => r()));
      if (owned) await redisServer.stop();
      if (owned) rmSync(home, { recursive: true, force: true });
    },
  };
}
