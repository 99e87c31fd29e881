// Runtime facts shared by the entry points: where Redis is, what the relay endpoint written into
// keys is. Entry points only; process folders receive these values, never look them up.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import type { RedisTarget } from '../shared/redis.js';
import type { KeyRelays } from '../shared/session/issue-key.js';

/** Where `scripts/up` records the URL of the private Redis it started. */
export function redisUrlFile(home: string): string {
  return join(home, 'run', 'redis.url');
}

/**
 * REDIS_URL when set (with REDIS_SENTINELS: the Sentinel-watched primary, REDIS_URL giving only
 * credentials, db and TLS), else the private Redis that `scripts/up` started under TETHER_HOME.
 */
export function resolveRedisUrl(config: Readonly<ServerConfig>): RedisTarget {
  const sentinel = config.redisSentinel;
  if (sentinel) return { url: config.redisUrl, sentinels: sentinel.sentinels, name: sentinel.name, sentinelPassword: sentinel.password };
  if (config.redisUrl) return config.redisUrl;
  const file = redisUrlFile(config.home);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new AppError('config_invalid', `invalid configuration: REDIS_URL: required (or start the embedded Redis with scripts/up; looked for ${file})`);
}

/**
 * The relay as keys name it: public host and port, and the host key fingerprint agents pin. With
 * TETHER_RELAY_ENDPOINTS, the fleet's relays in order (the first one stands in `relay` for older agents).
 * The caller brings the host key: the server's own, or the one the CLI loaded (it never makes one).
 */
export function keyRelays(config: Readonly<ServerConfig>, hostKey: { fingerprint: string }, boundPort?: number): KeyRelays {
  const fleet = config.relay.endpoints;
  if (fleet?.[0]) return { host: fleet[0].host, port: fleet[0].port, fingerprint: hostKey.fingerprint, fleet, order: config.relay.order };
  const port = config.relay.publicPort ?? (config.relay.port || boundPort || 0);
  if (port === 0) throw new AppError('config_invalid', 'invalid configuration: TETHER_RELAY_PUBLIC_PORT: required when TETHER_RELAY_PORT is 0');
  return { host: config.relay.publicHost, port, fingerprint: hostKey.fingerprint };
}

/** The package version (package.json beside dist/ or the sources). */
export function packageVersion(): string {
  for (const up of ['..', '../..']) {
    const file = join(import.meta.dirname, up, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'tether-orchestrator' && pkg.version) return pkg.version;
  }
  return 'unknown';
}
