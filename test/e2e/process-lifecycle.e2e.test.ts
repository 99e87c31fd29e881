// How the processes behave at their edges, as a newcomer meets them: a Redis that is not there is
// one line and exit 1 within 2 s (CLI and server); output into a pipe that closes early ends
// quietly; Ctrl-C stops the server within its deadline even when Redis left first or jobs are in
// flight, and a second Ctrl-C exits at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { dist, runNode, startNode, type LongRunning } from '../helpers/processes.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'tether-life-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

async function serverEnv(redisUrl: string): Promise<NodeJS.ProcessEnv> {
  const relayPort = await freePort();
  return {
    TETHER_HOME: tempHome(),
    REDIS_URL: redisUrl,
    TETHER_REDIS_PREFIX: randomPrefix(),
    TETHER_RELAY_PORT: String(relayPort),
    TETHER_API_PORT: '0',
    TETHER_WEBHOOK_SECRET: 'lifecycle-test-secret-0123456789',
    TETHER_LOG_LEVEL: 'info',
    TETHER_SHUTDOWN_MS: '3000',
  };
}

async function serve(env: NodeJS.ProcessEnv): Promise<LongRunning> {
  const server = startNode('serve', ['--smtp-capture'], env);
  cleanups.push(() => server.stop('SIGKILL'));
  await server.waitFor(/ready: /, 20_000);
  return server;
}

function exited(server: LongRunning): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve({ code: server.child.exitCode, ms: 0 });
    server.child.once('exit', (code) => resolve({ code, ms: Date.now() - t0 }));
  });
}

async function privateRedis(): Promise<RedisServerHandle> {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  return redis;
}

describe('a Redis that is not there', () => {
  it('the operator CLI says so in one line and exits 1 within 2 s', async () => {
    const t0 = Date.now();
    const r = await runNode('tether', ['sessions'], { TETHER_HOME: tempHome(), REDIS_URL: 'redis://127.0.0.1:1' });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tether: cannot reach Redis at redis://127.0.0.1:1 (connection refused)\n');
    expect(r.stdout).toBe('');
  });

  it('never shows the Redis password', async () => {
    const r = await runNode('tether', ['engineer', 'list'], { TETHER_HOME: tempHome(), REDIS_URL: 'redis://:s3cret-pass@127.0.0.1:1/2' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tether: cannot reach Redis at redis://127.0.0.1:1/2 (connection refused)\n');
  });

  it('the server refuses to start with the same line', async () => {
    const r = await runNode('serve', ['--roles', 'relay'], { ...(await serverEnv('redis://127.0.0.1:1')) }, 10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('serve: cannot reach Redis at redis://127.0.0.1:1 (connection refused)\n');
    expect(r.stdout).not.toMatch(/Unhandled error event/);
  });
});

describe('output into a pipe that closes early', () => {
  it('`tether audit --limit 5000 | head -1` (3,000 entries) ends quietly', async () => {
    const url = inject('redisUrl');
    const prefix = randomPrefix();
    const redis = new Redis(url);
    cleanups.push(async () => {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    });
    const audit = new RedisAuditLog(redis, prefix);
    for (let i = 0; i < 3_000; i++) await audit.append('engineer.added', { engineer: `e${i}`, actor: 'test' }, Date.now());
    const env = { ...process.env, TETHER_HOME: tempHome(), REDIS_URL: url, TETHER_REDIS_PREFIX: prefix };
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', `"${process.execPath}" "${dist('tether')}" audit --limit 5000 | head -1`], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
  });
});

describe('Ctrl-C on the server', () => {
  it('stops within its deadline when Redis left first, without a stream of error lines', async () => {
    const redis = await privateRedis();
    const server = await serve(await serverEnv(redis.url));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1_500)); // the connections notice and start retrying
    const before = server.output().length;
    const done = exited(server);
    server.child.kill('SIGINT');
    const { ms } = await done;
    expect(ms).toBeLessThan(3_000 + 1_500);
    const out = server.output();
    expect(out).toMatch(/serve: SIGINT: shutting down/);
    expect(out).toMatch(/serve: (stopped|not closed after 3 s .*: exiting now)/);
    // One line per connection (or worker) per outage, not one per retry.
    const errorLines = out.split('\n').filter((l) => /redis connection error|worker error/.test(l));
    const sources = errorLines.map((l) => {
      const j = JSON.parse(l) as { name?: string; queue?: string; msg: string };
      return `${j.queue ?? j.name}: ${j.msg}`;
    });
    expect(sources.length).toBeGreaterThan(0);
    // (Redis stopping may let a connection in once more before it is gone: at most two outages.)
    const perSource = new Map<string, number>();
    for (const src of sources) perSource.set(src, (perSource.get(src) ?? 0) + 1);
    expect(Math.max(...perSource.values()), errorLines.join('\n')).toBeLessThanOrEqual(2);
    expect(out.slice(before)).not.toMatch(/Unhandled error event/);
  }, 30_000);

  it('a second Ctrl-C exits at once', async () => {
    const redis = await privateRedis();
    const server = await serve(await serverEnv(redis.url));
    await redis.stop();
    const done = exited(server);
    server.child.kill('SIGINT');
    await server.waitFor(/shutting down/, 5_000);
    server.child.kill('SIGINT');
    const { code, ms } = await done;
    expect(code).toBe(130);
    expect(ms).toBeLessThan(2_000);
    expect(server.output()).toMatch(/SIGINT again: exiting now/);
  }, 30_000);

  it('stops within its deadline with jobs in flight', async () => {
    const redis = await privateRedis();
    const env = await serverEnv(redis.url);
    const server = await serve(env);
    const port = Number((await server.waitFor(/api listening on http:\/\/[^:]+:(\d+)/))[1]);
    const { createHmac } = await import('node:crypto');
    const posts = Array.from({ length: 40 }, async (_, i) => {
      const body = JSON.stringify({
        id: `evt-life-${i}`,
        type: 'ticket.created',
        ticket: { id: `L${i}`, subject: 's', description: 'd', status: 'open', requester: { email: `r${i}@customer.example` }, tags: ['tether'], appliance: { serial: `SN-LIFE-${i}`, product: 'sma', version: '10.1' } },
      });
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = createHmac('sha256', env.TETHER_WEBHOOK_SECRET!).update(`${ts}.${body}`).digest('hex');
      return fetch(`http://127.0.0.1:${port}/v1/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tether-timestamp': ts, 'x-tether-signature': `sha256=${sig}` }, body }).then((r) => r.status);
    });
    expect(new Set(await Promise.all(posts))).toEqual(new Set([202]));
    const done = exited(server);
    server.child.kill('SIGINT');
    const { ms } = await done;
    expect(ms).toBeLessThan(3_000 + 1_500);
    expect(server.output()).toMatch(/serve: (stopped|not closed after 3 s)/);
  }, 30_000);
});
