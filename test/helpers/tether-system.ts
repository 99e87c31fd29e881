// A whole tether system for end-to-end tests: private TETHER_HOME, a random Redis prefix, the
// server entry as a child process (`dist/scripts/serve.js`), the operator CLI, an engineer with a
// registered key and the ssh config block `tether ssh-config` prints, and simulated appliances
// (`ktether` with their own KTETHER_HOME).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { makeEngineerIdentity, writeSshConfig, type EngineerIdentity } from './engineer-ssh.js';
import { runNode, startNode, type LongRunning, type RunResult } from './processes.js';
import { deletePrefix, randomPrefix } from './redis-prefix.js';
import { freePort } from './redis-server.js';

export interface TetherSystem {
  home: string;
  env: NodeJS.ProcessEnv;
  redis: Redis;
  sessions: RedisSessionStore;
  audit: RedisAuditLog;
  relayPort: number;
  server: LongRunning;
  engineer: EngineerIdentity & { name: string; sshConfig: string };
  tether(args: string[]): Promise<RunResult>;
  /** Appliances made for this system; close() disables any still enabled, even after a failed test. */
  appliances: Set<SimulatedAppliance>;
  startServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startTetherSystem(redisUrl: string, extraEnv: NodeJS.ProcessEnv = {}, roles = 'relay', serveArgs: string[] = []): Promise<TetherSystem> {
  const home = mkdtempSync(join(tmpdir(), 'tether-home-'));
  const prefix = randomPrefix();
  const relayPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    TETHER_HOME: home,
    REDIS_URL: redisUrl,
    TETHER_REDIS_PREFIX: prefix,
    TETHER_RELAY_PORT: String(relayPort),
    TETHER_HEARTBEAT_FLUSH_MS: '200',
    TETHER_LOG_LEVEL: 'warn',
    // These systems test tunnels and pipelines; per-session authorisation has its own tests.
    TETHER_ENGINEER_POLICY: 'all',
    ...extraEnv,
  };
  const redis = new Redis(redisUrl);
  const tether = (args: string[]) => runNode('tether', args, env);
  const system: TetherSystem = {
    home,
    env,
    redis,
    sessions: new RedisSessionStore(redis, prefix),
    audit: new RedisAuditLog(redis, prefix),
    relayPort,
    server: undefined as unknown as LongRunning,
    engineer: undefined as unknown as TetherSystem['engineer'],
    tether,
    appliances: new Set(),
    async startServer() {
      system.server = startNode('serve', ['--roles', roles, ...serveArgs], env);
      await system.server.waitFor(/ready: /);
    },
    async close() {
      for (const box of [...system.appliances]) await box.close();
      await system.server?.stop();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      rmSync(home, { recursive: true, force: true });
    },
  };
  await system.startServer();
  const identity = makeEngineerIdentity('alice');
  const added = await tether(['engineer', 'add', 'alice', '--pubkey', identity.pubFile]);
  if (added.code !== 0) throw new Error(`engineer add failed: ${added.stderr}`);
  const block = await tether(['ssh-config', '--engineer', 'alice', '--identity', identity.keyFile]);
  if (block.code !== 0) throw new Error(`ssh-config failed: ${block.stderr}`);
  system.engineer = { ...identity, name: 'alice', sshConfig: writeSshConfig(identity.dir, block.stdout) };
  return system;
}

export interface SimulatedAppliance {
  home: string;
  serial: string;
  env: NodeJS.ProcessEnv;
  ktether(args: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

/** `ktether init` in a fresh KTETHER_HOME, forwarding the given ports to local test services. */
export async function simulatedAppliance(
  system: Pick<TetherSystem, 'home' | 'appliances'>,
  opts: { serial: string; product?: 'sma' | 'sda'; version?: string; forwards: Record<number, number> },
): Promise<SimulatedAppliance> {
  const home = mkdtempSync(join(tmpdir(), 'ktether-'));
  const env: NodeJS.ProcessEnv = { KTETHER_HOME: home };
  const ktether = (args: string[]) => runNode('ktether', args, env);
  const forwards = Object.entries(opts.forwards).flatMap(([port, target]) => ['--forward', `${port}=127.0.0.1:${target}`]);
  const init = await ktether([
    'init',
    '--serial',
    opts.serial,
    '--product',
    opts.product ?? 'sma',
    '--version',
    opts.version ?? '10.1',
    '--vendor-key',
    join(system.home, 'keys', 'signing.pub'),
    ...forwards,
  ]);
  if (init.code !== 0) throw new Error(`ktether init failed: ${init.stderr}`);
  const box: SimulatedAppliance = {
    home,
    serial: opts.serial,
    env,
    ktether,
    async close() {
      if (!system.appliances.delete(box)) return;
      await ktether(['disable']).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
  system.appliances.add(box);
  return box;
}
