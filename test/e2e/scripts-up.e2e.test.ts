// `scripts/up` as a newcomer runs it: with nothing changed since the last build it starts without
// running tsc, its console is human lines (the JSON log goes to TETHER_HOME/logs/), everything it
// writes under TETHER_HOME is owner-only, and Ctrl-C stops the server and its Redis.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/processes.js';
import { freePort } from '../helpers/redis-server.js';

const home = mkdtempSync(join(tmpdir(), 'tether-up-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** `scripts/up` in its own process group on free ports, its console collected; resolves once it says ready (or gave up). */
async function startUp(redisPort: number) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TETHER_HOME: home,
    TETHER_REDIS_PORT: String(redisPort),
    TETHER_RELAY_PORT: String(await freePort()),
    TETHER_API_PORT: String(await freePort()),
    TETHER_WEBHOOK_SECRET: 'scripts-up-test-secret-0123456789',
  };
  delete env.REDIS_URL;
  delete env.SMTP_URL;
  const child = spawn(join(ROOT, 'scripts', 'up'), [], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!/ready: /.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  return { child, output: () => out, exited };
}

/** What Redis on `port` answers to the raw protocol text `send` (read until it has said as many lines as were sent). */
function redisAnswer(port: number, send: string): Promise<string> {
  const lines = send.split('\r\n').filter(Boolean).length;
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.split('\r\n').filter(Boolean).length >= lines) (s.destroy(), resolve(got));
    });
    s.once('error', reject);
    s.write(send);
  });
}

describe('scripts/up', () => {
  it('starts without rebuilding, shows human lines, keeps JSON in the log file, and Ctrl-C stops it all', async () => {
    const redisPort = await freePort();
    const up = await startUp(redisPort);
    const { child, exited } = up;
    const out = () => up.output();
    try {
      expect(out(), out()).toMatch(/ready: api, workers, relay/);
      expect(out()).not.toMatch(/building/); // scripts/test built just before: nothing is stale
      for (const line of out().split('\n').filter(Boolean)) expect(line.startsWith('{'), line).toBe(false);
      expect(out()).toMatch(/redis listening on redis:\/\/127\.0\.0\.1:\d+ \(password in /);
      // Other local users reach loopback too: without the password (0600, never printed) Redis answers nothing.
      const password = readFileSync(join(home, 'run', 'redis.pass'), 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(24);
      expect(statSync(join(home, 'run', 'redis.pass')).mode & 0o777).toBe(0o600);
      expect(out()).not.toContain(password);
      expect(await redisAnswer(redisPort, 'PING\r\n')).toMatch(/^-NOAUTH/);
      expect(await redisAnswer(redisPort, `AUTH ${password}\r\nPING\r\n`)).toBe('+OK\r\n+PONG\r\n');
      const logFile = join(home, 'logs', 'tether.log');
      expect(existsSync(logFile)).toBe(true);
      expect(statSync(logFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, 'logs')).mode & 0o777).toBe(0o700);
      expect(statSync(home).mode & 0o777).toBe(0o700);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    await exited;
    // The terminal's SIGINT and the SIGTERM scripts/up passes on are one request: a clean stop, while Redis is still up.
    expect(out()).toMatch(/serve: SIG(INT|TERM): shutting down/);
    expect(out()).not.toMatch(/again: exiting now/);
    expect(out()).toMatch(/serve: stopped/);
    const logged = readFileSync(join(home, 'logs', 'tether.log'), 'utf8').trim().split('\n');
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(() => JSON.parse(line)).not.toThrow();
    // Redis is gone with it.
    const probe = await new Promise<boolean>((resolve) => {
      const s = connect(redisPort, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    expect(probe).toBe(false);
  }, 60_000);

  it('stops the Redis a scripts/up killed outright left behind, before it starts its own', async () => {
    const redisPort = await freePort();
    const start = async () => {
      const up = await startUp(redisPort);
      expect(up.output(), up.output()).toMatch(/ready: api, workers, relay/);
      return up;
    };
    const first = await start();
    const leftPid = Number(readFileSync(join(home, 'run', 'redis.pid'), 'utf8'));
    // SIGKILL to scripts/up's process group: no cleanup runs; its Redis, in its own session, stays.
    process.kill(-first.child.pid!, 'SIGKILL');
    await first.exited;
    expect(() => process.kill(leftPid, 0)).not.toThrow();

    const second = await start();
    expect(second.output()).toMatch(new RegExp(`stopping the Redis a previous scripts/up left running \\(pid ${leftPid}\\)`));
    expect(() => process.kill(leftPid, 0)).toThrow();
    process.kill(-second.child.pid!, 'SIGINT');
    await second.exited;
    expect(existsSync(join(home, 'run', 'redis.pid'))).toBe(false);
  }, 90_000);
});
