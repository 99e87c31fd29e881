// What every operator command needs: the validated config, one Redis connection, the stores, the
// clock. Opened lazily by the command that needs it and closed once when the command ends.
import type { Redis } from 'ioredis';
import { loadServerConfig } from '../../shared/config.js';
import { loadRelayHostPublicKey, loadSigningKey, type RelayHostKey, type SigningKey } from '../../shared/key/key-files.js';
import { AppError } from '../../shared/errors.js';
import { openRedis, redisUnreachable } from '../../shared/redis.js';
import type { ApplianceStore } from '../../shared/store/appliance.store.js';
import type { AuditLog } from '../../shared/store/audit.store.js';
import type { EngineerDirectory } from '../../shared/store/engineer.store.js';
import { RedisApplianceStore } from '../../shared/store/redis-appliance.store.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { CredentialStore, credentialSecretFrom } from '../../shared/store/credential.store.js';
import { RedisEngineerDirectory } from '../../shared/store/redis-engineer.store.js';
import { OperatorStore } from '../../shared/store/operator.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import type { SessionStore } from '../../shared/store/session.store.js';
import { HELP_DESKS } from '../../ticketing/help-desks.js';
import { resolveRedisUrl } from '../runtime.js';
import { AccessStore } from '../../shared/store/access.store.js';

export class OperatorContext {
  // The same check as the server's, help desks included: one environment file serves both.
  readonly config = loadServerConfig(process.env, HELP_DESKS);
  private redisClient: Redis | undefined;

  /** The first connection error, if Redis could not be reached: the command then says so in one line. */
  redisFailure: AppError | undefined;

  get redis(): Redis {
    if (!this.redisClient) {
      const url = resolveRedisUrl(this.config);
      // One attempt, 2 s: a person is waiting, and a dead Redis must not print retry traces.
      const client = openRedis(url, { name: 'tether-cli', failFast: true });
      client.on('error', (err) => (this.redisFailure ??= redisUnreachable(url, err)));
      this.redisClient = client;
    }
    return this.redisClient;
  }
  get sessions(): SessionStore {
    return new RedisSessionStore(this.redis, this.config.redisPrefix);
  }
  get access() {
    return new AccessStore(this.redis, this.config.redisPrefix);
  }
  get engineers(): EngineerDirectory {
    return new RedisEngineerDirectory(this.redis, this.config.redisPrefix);
  }
  get operators() {
    return new OperatorStore(this.redis, this.config.redisPrefix);
  }
  get audit(): AuditLog {
    return new RedisAuditLog(this.redis, this.config.redisPrefix);
  }
  get appliances(): ApplianceStore {
    return new RedisApplianceStore(this.redis, this.config.redisPrefix);
  }
  get credentials() {
    return new CredentialStore(this.redis, this.config.redisPrefix, credentialSecretFrom(this.signingKey().privateKey));
  }
  private signing: SigningKey | undefined;
  /** The server's signing key under TETHER_HOME; a missing one is refused (the CLI never makes keys). */
  signingKey(): SigningKey {
    this.signing ??= loadSigningKey(this.config.home);
    return this.signing;
  }
  private relayHost: Omit<RelayHostKey, 'privateKey'> | undefined;
  /** The public half of the server's relay host key; refused when missing, like the signing key. */
  relayHostKey(): Omit<RelayHostKey, 'privateKey'> {
    this.relayHost ??= loadRelayHostPublicKey(this.config.home);
    return this.relayHost;
  }
  now(): number {
    return Date.now();
  }
  async close(): Promise<void> {
    if (this.redisClient) {
      if (this.redisClient.status === 'end') return;
      if (this.redisFailure || this.redisClient.status !== 'ready') this.redisClient.disconnect();
      else await this.redisClient.quit().catch(() => this.redisClient?.disconnect());
    }
  }
}
