#!/usr/bin/env node
// The server entry point: hosts any of api, workers and relay in one process (the embedded
// default runs all three). Reads config once, opens and closes every connection, and prints
// where each role listens. SIGINT/SIGTERM close everything cleanly.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { loadServerConfig } from '../shared/config.js';
import { describeError } from '../shared/errors.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../shared/key/key-files.js';
import { createLogger } from '../shared/logger.js';
import { openRedis } from '../shared/redis.js';
import { AuditStore } from '../shared/store/audit.store.js';
import { EngineerStore } from '../shared/store/engineer.store.js';
import { SessionStore } from '../shared/store/session.store.js';
import { RelayServer } from '../relay/relay-server.js';
import { resolveRedisUrl } from './runtime.js';

const ROLES = ['api', 'workers', 'relay'] as const;
type Role = (typeof ROLES)[number];

interface Closable {
  close(): Promise<void>;
}

function parseRoles(text: string): Role[] {
  const roles = text.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length || roles.length === 0) {
    process.stderr.write(`serve: invalid --roles "${text}": use a comma-separated subset of ${ROLES.join(',')}\n`);
    process.exit(2);
  }
  return roles as Role[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { roles: { type: 'string', default: ROLES.join(',') }, 'smtp-capture': { type: 'boolean', default: false } },
  });
  const roles = parseRoles(values.roles ?? '');
  const config = loadServerConfig();
  const logger = createLogger('tether', config.logLevel);
  const redisUrl = resolveRedisUrl(config);
  // Dev keys are generated on first start and only read afterwards.
  const signingKey = loadOrCreateSigningKey(config.home);
  const hostKey = loadOrCreateRelayHostKey(config.home);
  const open: Closable[] = [];
  const connections: Redis[] = [];
  const connect = (name: string) => {
    const c = openRedis(redisUrl, { name });
    c.on('error', (err) => logger.warn({ err: describeError(err), name }, 'redis connection error'));
    connections.push(c);
    return c;
  };
  const redis = connect('tether');
  const sessions = new SessionStore(redis, config.redisPrefix);
  const engineers = new EngineerStore(redis, config.redisPrefix);
  const audit = new AuditStore(redis, config.redisPrefix);
  void signingKey;

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    for (const c of open.reverse()) await c.close().catch((err) => logger.error({ err: describeError(err) }, 'close failed'));
    for (const c of connections) c.disconnect();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (roles.includes('relay')) {
    const relayId = `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    const relay = new RelayServer({
      sessions,
      engineers,
      audit,
      subscriber: connect('tether-relay-sub'),
      hostKey,
      listen: { host: config.relay.listen, port: config.relay.port },
      keepaliveMs: config.relay.keepaliveMs,
      heartbeatFlushMs: config.relay.heartbeatFlushMs,
      relayId,
      now: () => Date.now(),
      logger: logger.child({ role: 'relay' }),
    });
    const port = await relay.start();
    open.push(relay);
    process.stdout.write(`relay listening on ${config.relay.listen}:${port} (host key ${hostKey.fingerprint})\n`);
  }
  process.stdout.write(`ready: ${roles.join(', ')} (TETHER_HOME ${config.home}, signing key ${signingKey.kid})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`serve: ${describeError(err)}\n`);
  process.exit(1);
});
