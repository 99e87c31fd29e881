// One tether system for a benchmark: a private Redis, a TETHER_HOME with the signing and relay host
// keys, the relay in a child process (relay-child.js), an engineer registered with an ssh-keygen
// key and an OpenSSH config for it, and a way to issue sessions (keys) as the operator does.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RELAY_NODE_FLAGS } from '../../relay/node-flags.js';
import { decodeKey } from '../../shared/key/key-codec.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey, type RelayHostKey, type SigningKey } from '../../shared/key/key-files.js';
import { openRedis } from '../../shared/redis.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { AccessStore } from '../../shared/store/access.store.js';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { RedisEngineerDirectory } from '../../shared/store/redis-engineer.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import type { RelayChildMessage, RelayChildRequest, RelayStats } from './relay-child.js';
import { killOnExit } from './kill-on-exit.js';
import { writeSshClientConfig } from './ssh-client-config.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

export const ENGINEER = 'alice';
/** Host alias of the relay in the engineer's OpenSSH config. */
export const RELAY_ALIAS = 'tether-relay';

export interface IssuedSession {
  sid: string;
  serial: string;
  key: string;
  /** The tunnel credential as an OpenSSH private key (what the agent derives from the key). */
  privateKey: string;
}

export interface BenchTether {
  home: string;
  redisServer: RedisServerHandle;
  redis: Redis;
  prefix: string;
  sessions: RedisSessionStore;
  signingKey: SigningKey;
  hostKey: RelayHostKey;
  relayPid: number;
  relayPort: number;
  engineer: { keyFile: string; privateKey: string; sshConfig: string };
  issue(serial: string): Promise<IssuedSession>;
  relayStats(gc: boolean): Promise<RelayStats>;
  relayOutput(): string;
  close(): Promise<void>;
}

export interface FixtureOptions {
  keepaliveMs?: number;
  heartbeatFlushMs?: number;
  logLevel?: string;
  /** Writes a V8 CPU profile of the relay child here on exit (node --cpu-prof). */
  cpuProfileDir?: string;
  /** Extra node flags for the relay child. */
  nodeFlags?: string[];
}

/** A relay child process (relay-child.js) with this environment; fleet.bench.ts starts a second one. */
export function startRelayChild(env: NodeJS.ProcessEnv, flags: string[] = []): { child: ChildProcess; output: () => string; ready: Promise<number> } {
  const script = join(import.meta.dirname, 'relay-child.js');
  const child = fork(script, [], { env: { ...process.env, ...env }, execArgv: ['--expose-gc', ...RELAY_NODE_FLAGS, ...flags], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  killOnExit(child);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const ready = new Promise<number>((resolve, reject) => {
    child.on('message', (m: RelayChildMessage) => m.type === 'ready' && resolve(m.port));
    child.once('exit', (code) => reject(new Error(`relay child exited (${code}) before listening:\n${out}`)));
  });
  return { child, output: () => out, ready };
}

/** The bench engineer (alice) registered with an ssh-keygen key, and an OpenSSH config whose
 * `tether-relay` is 127.0.0.1:relayPort with the relay's host key pinned, as `tether ssh-config` prints it. */
export async function registerBenchEngineer(home: string, redis: Redis, prefix: string, relayPort: number, hostKey: RelayHostKey): Promise<BenchTether['engineer']> {
  const engDir = join(home, 'engineer');
  mkdirSync(engDir, { mode: 0o700 });
  const keyFile = join(engDir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${ENGINEER}@bench`, '-f', keyFile]);
  await new RedisEngineerDirectory(redis, prefix).addKey(ENGINEER, parseEngineerKey(readFileSync(`${keyFile}.pub`, 'utf8')), 'bench', Date.now());
  const sshConfig = writeSshClientConfig(engDir, { alias: RELAY_ALIAS, port: relayPort, user: ENGINEER, identityFile: keyFile, hostKeyLine: hostKey.publicLine });
  return { keyFile, privateKey: readFileSync(keyFile, 'utf8'), sshConfig };
}

/** A session issued with `issueKey` as the operator does, granted to the bench engineer. */
export async function issueBenchSession(
  deps: { redis: Redis; prefix: string; sessions: RedisSessionStore; signingKey: SigningKey; hostKey: RelayHostKey; relayPort: number },
  serial: string,
): Promise<IssuedSession> {
  const issued = await issueKey(
    { serial, product: 'sma', version: '10.1', ttlMs: 86_400_000, actor: 'operator:bench' },
    { sessions: deps.sessions, signingKey: deps.signingKey, relay: { host: '127.0.0.1', port: deps.relayPort, fingerprint: deps.hostKey.fingerprint }, now: () => Date.now() },
  );
  // TETHER_ENGINEER_POLICY=assigned (the default): the bench engineer is granted each session, as an operator would.
  await new AccessStore(deps.redis, deps.prefix).grant(issued.session, ENGINEER, 'operator:bench', Date.now());
  const cred = decodeKey(issued.key).payload.cred;
  if (!cred) throw new Error('issued key carries no tunnel credential');
  return { sid: issued.session.id, serial, key: issued.key, privateKey: openSshPrivateKeyFromSeed(Buffer.from(cred, 'base64url')) };
}

export async function startBenchTether(opts: FixtureOptions = {}): Promise<BenchTether> {
  const home = mkdtempSync(join(tmpdir(), 'tether-bench-'));
  const redisServer = await startRedisServer();
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  // Created here first, so that the relay child only reads them.
  const signingKey = loadOrCreateSigningKey(home);
  const hostKey = loadOrCreateRelayHostKey(home);
  const relay = startRelayChild({
    TETHER_HOME: home,
    REDIS_URL: redisServer.url,
    TETHER_REDIS_PREFIX: prefix,
    TETHER_RELAY_PORT: '0',
    TETHER_RELAY_LISTEN: '127.0.0.1',
    TETHER_KEEPALIVE_MS: String(opts.keepaliveMs ?? 15_000),
    TETHER_HEARTBEAT_FLUSH_MS: String(opts.heartbeatFlushMs ?? 2_000),
    TETHER_LOG_LEVEL: opts.logLevel ?? 'warn',
  }, [...(opts.nodeFlags ?? []), ...(opts.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfileDir] : [])]);
  const relayPort = await relay.ready;
  const redis = openRedis(redisServer.url, { name: 'bench' });
  const sessions = new RedisSessionStore(redis, prefix);

  const engineer = await registerBenchEngineer(home, redis, prefix, relayPort, hostKey);

  let statsWaiter: ((s: RelayStats) => void) | undefined;
  relay.child.on('message', (m: RelayChildMessage) => {
    if (m.type === 'stats') statsWaiter?.(m);
  });

  return {
    home,
    redisServer,
    redis,
    prefix,
    sessions,
    signingKey,
    hostKey,
    relayPid: relay.child.pid ?? 0,
    relayPort,
    engineer,
    issue: (serial) => issueBenchSession({ redis, prefix, sessions, signingKey, hostKey, relayPort }, serial),
    relayStats(gc) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('relay child did not answer a stats request')), 30_000);
        statsWaiter = (s) => {
          clearTimeout(timer);
          statsWaiter = undefined;
          resolve(s);
        };
        relay.child.send({ type: 'stats', gc } satisfies RelayChildRequest);
      });
    },
    relayOutput: relay.output,
    async close() {
      if (relay.child.exitCode === null && relay.child.signalCode === null) {
        const exited = new Promise<void>((r) => relay.child.once('exit', () => r()));
        const timer = setTimeout(() => relay.child.kill('SIGKILL'), 10_000);
        relay.child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
      redis.disconnect();
      await redisServer.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
