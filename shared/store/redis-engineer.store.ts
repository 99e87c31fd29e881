// The engineer directory in Redis: one hash of engineer name → JSON record. A removal is recorded,
// audited and announced to every relay in one MULTI, so relays end the removed engineer's open
// connections.
import type { Redis } from 'ioredis';
import { engineerSchema, engineerWithKey, withdrawalAudit, type Engineer, type EngineerDirectory, type EngineerKey, type EngineerRevocation } from './engineer.store.js';
import { redisKeys } from './redis-keys.js';

export class RedisEngineerDirectory implements EngineerDirectory {
  private readonly key: string;
  private readonly audit: string;
  /** Pub/sub channel of withdrawals (JSON EngineerRevocation): relays subscribe to it. */
  readonly channel: string;

  constructor(private readonly redis: Redis, prefix: string) {
    const keys = redisKeys(prefix);
    this.key = keys.engineers;
    this.audit = keys.audit;
    this.channel = keys.engineerEvents;
  }

  async addKey(name: string, key: EngineerKey, now: number): Promise<Engineer> {
    const engineer = engineerWithKey(await this.get(name), name, key, now);
    await this.redis.hset(this.key, name, JSON.stringify(engineer));
    return engineer;
  }

  async get(name: string): Promise<Engineer | null> {
    const raw = await this.redis.hget(this.key, name);
    if (!raw) return null;
    const parsed = engineerSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  }

  async remove(name: string, actor: string, now: number): Promise<boolean> {
    const engineer = await this.get(name);
    if (!engineer) return false;
    await this.withdraw({ engineer: name }, actor, now, (m) => m.hdel(this.key, name));
    return true;
  }

  async removeKey(name: string, fingerprint: string, actor: string, now: number): Promise<boolean> {
    const engineer = await this.get(name);
    const keys = engineer?.keys.filter((k) => k.fingerprint !== fingerprint);
    if (!engineer || !keys || keys.length === engineer.keys.length) return false;
    await this.withdraw({ engineer: name, fingerprints: [fingerprint] }, actor, now, (m) =>
      keys.length === 0 ? m.hdel(this.key, name) : m.hset(this.key, name, JSON.stringify({ ...engineer, keys })),
    );
    return true;
  }

  private async withdraw(rev: EngineerRevocation, actor: string, now: number, change: (m: ReturnType<Redis['multi']>) => unknown): Promise<void> {
    const m = this.redis.multi();
    change(m);
    const { type, fields } = withdrawalAudit(rev, actor);
    m.xadd(this.audit, '*', 'type', type, ...Object.entries(fields).flat(), 'at', String(now));
    m.publish(this.channel, JSON.stringify(rev));
    await m.exec();
  }

  async list(): Promise<Engineer[]> {
    const all = await this.redis.hvals(this.key);
    return all
      .map((raw) => engineerSchema.safeParse(JSON.parse(raw)))
      .flatMap((r) => (r.success ? [r.data] : []))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
