// A relay alone in a child process, composed exactly as scripts/serve.ts composes it (same config
// variables), plus an IPC channel through which the benchmark asks for a GC and memory figures.
// Run with --expose-gc. Sends {type:'ready', port} once listening. SIGTERM drains first, as serve
// does (appliances sent to other relays of the fleet), and sends {type:'drained', …} before exiting.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadServerConfig } from '../../shared/config.js';
import { describeError } from '../../shared/errors.js';
import { loadOrCreateRelayHostKey } from '../../shared/key/key-files.js';
import { createLogger } from '../../shared/logger.js';
import { openRedis } from '../../shared/redis.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RedisEngineerDirectory } from '../../shared/store/redis-engineer.store.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { RelayServer } from '../../relay/relay-server.js';
import { AccessStore } from '../../shared/store/access.store.js';

export interface RelayStats {
  type: 'stats';
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  tunnels: number;
}

export interface RelayDrained {
  type: 'drained';
  moved: number;
  cut: number;
  tookMs: number;
}

export type RelayChildMessage = { type: 'ready'; port: number } | RelayStats | RelayDrained;
export type RelayChildRequest = { type: 'stats'; gc: boolean };

async function main(): Promise<void> {
  const config = loadServerConfig();
  const logger = createLogger('bench-relay', config.logLevel);
  const redisUrl = config.redisUrl;
  if (!redisUrl) throw new Error('REDIS_URL is required');
  const connections: Redis[] = [];
  const connect = (name: string) => {
    const c = openRedis(redisUrl, { name });
    c.on('error', (err) => logger.warn({ err: describeError(err), name }, 'redis connection error'));
    connections.push(c);
    return c;
  };
  const redis = connect('bench-relay');
  const relay = new RelayServer({
    sessions: new RedisSessionStore(redis, config.redisPrefix),
    engineers: new RedisEngineerDirectory(redis, config.redisPrefix),
    access: new AccessStore(redis, config.redisPrefix),
    engineerPolicy: config.engineerPolicy,
    audit: new RedisAuditLog(redis, config.redisPrefix),
    subscriber: connect('bench-relay-sub'),
    hostKey: loadOrCreateRelayHostKey(config.home),
    listen: { host: config.relay.listen, port: config.relay.port },
    keepaliveMs: config.relay.keepaliveMs,
    heartbeatFlushMs: config.relay.heartbeatFlushMs,
    relayId: `bench-${process.pid}-${randomBytes(2).toString('hex')}`,
    now: () => Date.now(),
    logger,
    // A fleet member as serve makes it: registered, with a peer listener (fleet.bench.ts runs two).
    fleet: { store: new RelayFleetStore(redis, config.redisPrefix), peerListen: { host: config.relay.peer.listen, port: config.relay.peer.port } },
  });
  const port = await relay.start();
  // 'last-resort': V8's full GC with memory reduction, as under memory pressure.
  const gc = (globalThis as { gc?: (o?: { type: string; execution: string; flavor?: string }) => void }).gc;
  process.on('message', (msg: RelayChildRequest) => {
    if (msg.type !== 'stats') return;
    if (msg.gc && gc) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const m = process.memoryUsage();
    const reply: RelayStats = { type: 'stats', rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, tunnels: relay.tunnelCount };
    process.send?.(reply);
  });
  let stopping = false;
  const stop = async (drain: boolean) => {
    if (stopping) return;
    stopping = true;
    if (drain) {
      const r = await relay.drain(config.relay.drainMs).catch((err: unknown) => (logger.error({ err: describeError(err) }, 'drain failed'), undefined));
      if (r && process.connected) await new Promise<void>((done) => process.send?.({ type: 'drained', ...r } satisfies RelayChildMessage, () => done()));
    }
    await relay.close().catch(() => undefined);
    for (const c of connections) c.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop(true));
  process.on('disconnect', () => void stop(false));
  process.send?.({ type: 'ready', port } satisfies RelayChildMessage);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench relay: ${describeError(err)}\n`);
  process.exit(1);
});
