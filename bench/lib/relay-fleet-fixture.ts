// A fleet of relays for a benchmark: a private Redis, one TETHER_HOME (signing key, the fleet's one
// relay host key), N relay children (relay-child.js, composed as serve composes them, each a fleet
// member) on that Redis, and keys issued as the operator does, each naming the fleet in a given order.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import type { RelayEndpoint } from '../../appliance/tunnel/relay-dial.js';
import { decodeKey } from '../../shared/key/key-codec.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey, type RelayHostKey } from '../../shared/key/key-files.js';
import { openRedis } from '../../shared/redis.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import type { RelayChildMessage, RelayChildRequest, RelayDrained, RelayStats } from './relay-child.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';
import { startRelayChild } from './tether-fixture.js';

export interface FleetRelay {
  /** 'A', 'B', 'C', … */
  name: string;
  pid: number;
  port: number;
  /** Its relay id, as sessions' `relayId` and events' `relay` name it. */
  id: string;
  child: ChildProcess;
  stats(gc: boolean): Promise<RelayStats>;
  /** SIGTERM (the relay drains, as serve does); resolves with its drain report once it exited. */
  terminate(): Promise<{ drained: RelayDrained | undefined; exitedAt: number }>;
  output(): string;
}

export interface FleetKey {
  sid: string;
  serial: string;
  /** The tunnel credential as an OpenSSH private key (what the agent derives from the key). */
  credential: string;
  /** The key's relays, in its order. */
  relays: RelayEndpoint[];
  expiresAt: number;
}

export interface RelayFleetFixture {
  redisServer: RedisServerHandle;
  /** The benchmark's own connection (INFO, reads). */
  redis: Redis;
  prefix: string;
  sessions: RedisSessionStore;
  hostKey: RelayHostKey;
  relays: FleetRelay[];
  /** Issues a session whose key names the relays in this order (indexes into `relays`). */
  issue(serial: string, order: readonly number[]): Promise<FleetKey>;
  close(): Promise<void>;
}

export interface RelayFleetOptions {
  relays: number;
  keepaliveMs: number;
  heartbeatFlushMs: number;
}

const KEY_TTL_MS = 86_400_000;

function relayHandle(name: string, started: ReturnType<typeof startRelayChild>, port: number): Omit<FleetRelay, 'id'> {
  const { child } = started;
  let waiter: ((s: RelayStats) => void) | undefined;
  let drained: RelayDrained | undefined;
  child.on('message', (m: RelayChildMessage) => {
    if (m.type === 'stats') waiter?.(m);
    if (m.type === 'drained') drained = m;
  });
  return {
    name,
    pid: child.pid ?? 0,
    port,
    child,
    output: started.output,
    stats(gc) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`relay ${name} (pid ${child.pid}) did not answer a stats request within 60 s: hung?`)), 60_000);
        waiter = (s) => {
          clearTimeout(timer);
          waiter = undefined;
          resolve(s);
        };
        child.send({ type: 'stats', gc } satisfies RelayChildRequest);
      });
    },
    async terminate() {
      if (child.exitCode !== null || child.signalCode !== null) return { drained, exitedAt: Date.now() };
      const exited = new Promise<number>((r) => child.once('exit', () => r(Date.now())));
      child.kill('SIGTERM');
      const exitedAt = await exited;
      return { drained, exitedAt };
    },
  };
}

export async function startRelayFleet(opts: RelayFleetOptions): Promise<RelayFleetFixture> {
  const home = mkdtempSync(join(tmpdir(), 'tether-bench-fleet-'));
  const redisServer = await startRedisServer();
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  // Made here first, so that the relay children only read them: one host key for the whole fleet.
  const signingKey = loadOrCreateSigningKey(home);
  const hostKey = loadOrCreateRelayHostKey(home);
  const env = {
    TETHER_HOME: home,
    REDIS_URL: redisServer.url,
    TETHER_REDIS_PREFIX: prefix,
    TETHER_RELAY_PORT: '0',
    TETHER_RELAY_LISTEN: '127.0.0.1',
    TETHER_KEEPALIVE_MS: String(opts.keepaliveMs),
    TETHER_HEARTBEAT_FLUSH_MS: String(opts.heartbeatFlushMs),
    TETHER_LOG_LEVEL: 'warn',
  };
  const started = Array.from({ length: opts.relays }, () => startRelayChild(env));
  const redis = openRedis(redisServer.url, { name: 'bench-fleet' });
  const relays: FleetRelay[] = [];
  try {
    const ports = await Promise.all(started.map((s) => s.ready));
    const registrations = await new RelayFleetStore(redis, prefix).list();
    started.forEach((s, i) => {
      const h = relayHandle(String.fromCharCode(65 + i), s, ports[i]!);
      // relay-child names itself bench-<pid>-<random>.
      const id = registrations.find((r) => r.id.startsWith(`bench-${h.pid}-`))?.id;
      if (!id) throw new Error(`relay ${h.name} (pid ${h.pid}) is not registered in the fleet`);
      relays.push({ ...h, id });
    });
  } catch (err) {
    for (const s of started) s.child.kill('SIGKILL');
    redis.disconnect();
    await redisServer.stop();
    throw err;
  }
  const sessions = new RedisSessionStore(redis, prefix);
  return {
    redisServer,
    redis,
    prefix,
    sessions,
    hostKey,
    relays,
    async issue(serial, order) {
      const fleet = order.map((i) => ({ host: '127.0.0.1', port: relays[i]!.port }));
      const issued = await issueKey(
        { serial, product: 'sma', version: '10.1', ttlMs: KEY_TTL_MS, actor: 'operator:bench' },
        { sessions, signingKey, relay: { ...fleet[0]!, fingerprint: hostKey.fingerprint, fleet }, now: () => Date.now() },
      );
      const payload = decodeKey(issued.key).payload;
      if (!payload.cred) throw new Error('issued key carries no tunnel credential');
      if (!payload.relays || payload.relays.length !== order.length) throw new Error('issued key does not name the fleet');
      return {
        sid: issued.session.id,
        serial,
        credential: openSshPrivateKeyFromSeed(Buffer.from(payload.cred, 'base64url')),
        relays: payload.relays.map((r) => ({ host: r.host, port: r.port, fp: r.fp })),
        expiresAt: issued.session.expiresAt,
      };
    },
    async close() {
      await Promise.all(
        relays.map(async (r) => {
          if (r.child.exitCode !== null || r.child.signalCode !== null) return;
          const timer = setTimeout(() => r.child.kill('SIGKILL'), 15_000);
          await r.terminate();
          clearTimeout(timer);
        }),
      );
      redis.disconnect();
      await redisServer.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
