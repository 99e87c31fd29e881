// A tether fleet for end-to-end tests: one TETHER_HOME (shared signing and relay host keys), one
// Redis prefix, N `serve --roles relay` processes (TETHER_RELAY_ENDPOINTS lists them all, in order),
// M `--roles workers` and K `--roles api` processes, the operator CLI, and an engineer whose ssh
// config can point at any relay. Every process is the compiled production entry (dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { openRedis, type RedisTarget } from '../../shared/redis.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { makeEngineerIdentity, writeSshConfig, type EngineerIdentity } from './engineer-ssh.js';
import { runNode, startNode, type LongRunning, type RunResult } from './processes.js';
import { deletePrefix, randomPrefix } from './redis-prefix.js';
import { freePort } from './redis-server.js';

export interface FleetRelay {
  port: number;
  proc: LongRunning;
  /** The relay id it registered (`<host>-<pid>-<random>`), once it is up. */
  id: string;
}

export interface FleetSystem {
  home: string;
  env: NodeJS.ProcessEnv;
  redis: Redis;
  sessions: RedisSessionStore;
  audit: RedisAuditLog;
  fleet: RelayFleetStore;
  relays: FleetRelay[];
  workers: LongRunning[];
  apis: { url: string; proc: LongRunning }[];
  engineer: EngineerIdentity & { name: string };
  tether(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** An ssh config whose `tether-relay` alias is relay `i`. */
  sshConfigFor(i: number): Promise<string>;
  /** The relay (index) whose id is `relayId`, or -1. */
  indexOf(relayId: string | undefined): number;
  close(): Promise<void>;
}

export interface FleetOptions {
  relays: number;
  workers: number;
  apis: number;
  env?: NodeJS.ProcessEnv;
}

async function registeredId(fleet: RelayFleetStore, pid: number): Promise<string> {
  const prefix = `${hostname()}-${pid}-`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reg = (await fleet.list()).find((r) => r.id.startsWith(prefix));
    if (reg) return reg.id;
    if (Date.now() > deadline) throw new Error(`relay pid ${pid} never registered`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `redis`: a URL, or a Sentinel set (REDIS_SENTINELS / REDIS_SENTINEL_NAME for every process). */
export async function startFleetSystem(redis: RedisTarget, opts: FleetOptions): Promise<FleetSystem> {
  const home = mkdtempSync(join(tmpdir(), 'tether-fleet-'));
  const prefix = randomPrefix();
  const relayPorts = await Promise.all(Array.from({ length: opts.relays }, () => freePort()));
  const env: NodeJS.ProcessEnv = {
    TETHER_HOME: home,
    ...(typeof redis === 'string'
      ? { REDIS_URL: redis }
      : { REDIS_SENTINELS: redis.sentinels.map((s) => `${s.host}:${s.port}`).join(','), REDIS_SENTINEL_NAME: redis.name }),
    TETHER_REDIS_PREFIX: prefix,
    TETHER_HEARTBEAT_FLUSH_MS: '200',
    TETHER_LOG_LEVEL: 'warn',
    TETHER_ENGINEER_POLICY: 'all',
    TETHER_RELAY_ENDPOINTS: relayPorts.map((p) => `127.0.0.1:${p}`).join(','),
    TETHER_RELAY_PORT: String(relayPorts[0]),
    ...opts.env,
  };
  const client = openRedis(redis, { name: 'fleet-test' });
  client.on('error', () => undefined);
  const fleet = new RelayFleetStore(client, prefix);
  const tether = (args: string[], extra: NodeJS.ProcessEnv = {}) => runNode('tether', args, { ...env, ...extra });
  const procs: LongRunning[] = [];
  const start = async (roles: string, extra: NodeJS.ProcessEnv): Promise<LongRunning> => {
    const proc = startNode('serve', ['--roles', roles], { ...env, ...extra });
    procs.push(proc);
    await proc.waitFor(/ready: /, 30_000);
    return proc;
  };
  const startRelay = async (port: number): Promise<FleetRelay> => {
    const proc = await start('relay', { TETHER_RELAY_PORT: String(port) });
    return { port, proc, id: await registeredId(fleet, proc.child.pid!) };
  };
  // The first start makes the keys under TETHER_HOME; the others then only read them.
  const relays: FleetRelay[] = [await startRelay(relayPorts[0]!)];
  relays.push(...(await Promise.all(relayPorts.slice(1).map(startRelay))));
  const workers = await Promise.all(Array.from({ length: opts.workers }, () => start('workers', {})));
  const apis = await Promise.all(
    Array.from({ length: opts.apis }, async () => {
      const port = await freePort();
      return { url: `http://127.0.0.1:${port}`, proc: await start('api', { TETHER_API_PORT: String(port) }) };
    }),
  );
  const identity = makeEngineerIdentity('alice');
  const added = await tether(['engineer', 'add', 'alice', '--pubkey', identity.pubFile]);
  if (added.code !== 0) throw new Error(`engineer add failed: ${added.stderr}`);
  const system: FleetSystem = {
    home,
    env,
    redis: client,
    sessions: new RedisSessionStore(client, prefix),
    audit: new RedisAuditLog(client, prefix),
    fleet,
    relays,
    workers,
    apis,
    engineer: { ...identity, name: 'alice' },
    tether,
    async sshConfigFor(i) {
      const dir = mkdtempSync(join(identity.dir, `relay${i}-`));
      const block = await tether(['ssh-config', '--engineer', 'alice', '--identity', identity.keyFile], { TETHER_RELAY_ENDPOINTS: `127.0.0.1:${relays[i]!.port}` });
      if (block.code !== 0) throw new Error(`ssh-config failed: ${block.stderr}`);
      return writeSshConfig(dir, block.stdout, identity.keyFile);
    },
    indexOf: (relayId) => relays.findIndex((r) => r.id === relayId),
    async close() {
      await Promise.all(procs.map((p) => p.stop('SIGKILL')));
      await deletePrefix(client, prefix).catch(() => undefined);
      client.disconnect();
      rmSync(home, { recursive: true, force: true });
      rmSync(identity.dir, { recursive: true, force: true });
    },
  };
  return system;
}
