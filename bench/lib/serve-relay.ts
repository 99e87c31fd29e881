// The relay as production starts it, for the relay-cores benchmark: `dist/scripts/serve.js --roles
// relay` in a child process on a fixed port with TETHER_RELAY_PROCESSES=N, its own TETHER_HOME
// (signing and host keys) and Redis prefix, the bench engineer registered, sessions issued as the
// operator does. The relay processes are found through their fleet registrations (id ends -PID-xxxx).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RELAY_NODE_FLAGS } from '../../relay/node-flags.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey, type RelayHostKey } from '../../shared/key/key-files.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { killOnExit } from './kill-on-exit.js';
import { freePort } from './redis-server.js';
import { SERVE_ENTRY } from './serve-child.js';
import { issueBenchSession, registerBenchEngineer, type BenchTether, type IssuedSession } from './tether-fixture.js';

export interface ServeRelay {
  /** TETHER_RELAY_PROCESSES. */
  processes: number;
  port: number;
  /** The serve process: with one relay process it is the relay; with more, the cluster primary. */
  primaryPid: number;
  hostKey: RelayHostKey;
  engineer: BenchTether['engineer'];
  audit: RedisAuditLog;
  sessions: RedisSessionStore;
  issue(serial: string): Promise<IssuedSession>;
  /** Relay id → pid of every registered relay of this serve (the fleet registrations). */
  relays(): Promise<Map<string, number>>;
  output(): string;
  close(): Promise<void>;
}

const pidOf = (relayId: string) => Number(/-(\d+)-[0-9a-f]{4}$/.exec(relayId)?.[1] ?? 0);

export async function startServeRelay(opts: { processes: number; redisUrl: string; redis: Redis; env?: NodeJS.ProcessEnv }): Promise<ServeRelay> {
  const home = mkdtempSync(join(tmpdir(), `tether-bench-cores${opts.processes}-`));
  const prefix = `benchcores${randomBytes(4).toString('hex')}:`;
  // Created here first, so that the relay processes only read them.
  const signingKey = loadOrCreateSigningKey(home);
  const hostKey = loadOrCreateRelayHostKey(home);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TETHER_HOME: home,
    REDIS_URL: opts.redisUrl,
    TETHER_REDIS_PREFIX: prefix,
    TETHER_RELAY_PORT: String(port),
    TETHER_RELAY_LISTEN: '127.0.0.1',
    TETHER_RELAY_PROCESSES: String(opts.processes),
    TETHER_LOG_LEVEL: 'warn',
    // Nothing is open when the benchmark stops it: no reason to wait the default 30 s.
    TETHER_RELAY_DRAIN_MS: '2000',
    ...opts.env,
  };
  const child: ChildProcess = spawn(process.execPath, [...RELAY_NODE_FLAGS, SERVE_ENTRY, '--roles', 'relay'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  const fleet = new RelayFleetStore(opts.redis, prefix);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out = (out + d.toString()).slice(-20_000);
        if (/ready: /.test(out)) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`serve --roles relay exited (${code}) before it was ready:\n${out}`)));
    });
    const registered = await fleet.list();
    if (registered.length !== opts.processes) throw new Error(`expected ${opts.processes} registered relays, found ${registered.length}:\n${out}`);
    const sessions = new RedisSessionStore(opts.redis, prefix);
    const engineer = await registerBenchEngineer(home, opts.redis, prefix, port, hostKey);
    return {
      processes: opts.processes,
      port,
      primaryPid: child.pid ?? 0,
      hostKey,
      engineer,
      audit: new RedisAuditLog(opts.redis, prefix),
      sessions,
      issue: (serial) => issueBenchSession({ redis: opts.redis, prefix, sessions, signingKey, hostKey, relayPort: port }, serial),
      relays: async () => new Map((await fleet.list()).map((r) => [r.id, pidOf(r.id)])),
      output: () => out,
      close: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
