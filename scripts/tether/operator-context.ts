// What every operator command needs: the validated config, one Redis connection, the stores, the
// clock. Opened lazily by the command that needs it and closed once when the command ends.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadServerConfig, type ServerConfig } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import type { RelayEndpoint } from '../../shared/session/issue-key.js';
import { openRedis } from '../../shared/redis.js';
import { AuditStore } from '../../shared/store/audit.store.js';
import { EngineerStore } from '../../shared/store/engineer.store.js';
import { SessionStore } from '../../shared/store/session.store.js';

/** Where `scripts/up` records the URL of the private Redis it started. */
export function redisUrlFile(home: string): string {
  return join(home, 'run', 'redis.url');
}

/** REDIS_URL when set, else the private Redis that `scripts/up` started under TETHER_HOME. */
export function resolveRedisUrl(config: Readonly<ServerConfig>): string {
  if (config.redisUrl) return config.redisUrl;
  const file = redisUrlFile(config.home);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new AppError('config_invalid', `invalid configuration: REDIS_URL: required (or start the embedded Redis with scripts/up; looked for ${file})`);
}

export function relayEndpoint(config: Readonly<ServerConfig>): RelayEndpoint {
  const hostKey = loadOrCreateRelayHostKey(config.home);
  const port = config.relay.publicPort ?? config.relay.port;
  if (port === 0) throw new AppError('config_invalid', 'invalid configuration: TETHER_RELAY_PUBLIC_PORT: required when TETHER_RELAY_PORT is 0');
  return { host: config.relay.publicHost, port, fingerprint: hostKey.fingerprint };
}

export class OperatorContext {
  readonly config = loadServerConfig();
  private redisClient: Redis | undefined;

  get redis(): Redis {
    this.redisClient ??= openRedis(resolveRedisUrl(this.config), { name: 'tether-cli' });
    return this.redisClient;
  }
  get sessions() {
    return new SessionStore(this.redis, this.config.redisPrefix);
  }
  get engineers() {
    return new EngineerStore(this.redis, this.config.redisPrefix);
  }
  get audit() {
    return new AuditStore(this.redis, this.config.redisPrefix);
  }
  signingKey() {
    return loadOrCreateSigningKey(this.config.home);
  }
  now(): number {
    return Date.now();
  }
  async close(): Promise<void> {
    if (this.redisClient) await this.redisClient.quit().catch(() => this.redisClient?.disconnect());
  }
}
