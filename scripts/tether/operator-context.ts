// What every operator command needs: the validated config, one Redis connection, the stores, the
// clock. Opened lazily by the command that needs it and closed once when the command ends.
import type { Redis } from 'ioredis';
import { loadServerConfig } from '../../shared/config.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../shared/key/key-files.js';
import { openRedis } from '../../shared/redis.js';
import { ApplianceStore } from '../../shared/store/appliance.store.js';
import { AuditStore } from '../../shared/store/audit.store.js';
import { CredentialStore, credentialSecretFrom } from '../../shared/store/credential.store.js';
import { EngineerStore } from '../../shared/store/engineer.store.js';
import { SessionStore } from '../../shared/store/session.store.js';
import { resolveRedisUrl } from '../runtime.js';

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
  get appliances() {
    return new ApplianceStore(this.redis, this.config.redisPrefix);
  }
  get credentials() {
    return new CredentialStore(this.redis, this.config.redisPrefix, credentialSecretFrom(this.signingKey().privateKey));
  }
  private signing: SigningKey | undefined;
  signingKey(): SigningKey {
    this.signing ??= loadOrCreateSigningKey(this.config.home);
    return this.signing;
  }
  now(): number {
    return Date.now();
  }
  async close(): Promise<void> {
    if (this.redisClient) await this.redisClient.quit().catch(() => this.redisClient?.disconnect());
  }
}
