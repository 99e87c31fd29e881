// The engineer registry: engineer name → OpenSSH public keys. The relay authenticates engineers
// against it; the operator CLI edits it. A removal is recorded, audited and announced to every relay
// in one MULTI, so relays end the removed engineer's open connections.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import ssh2 from 'ssh2';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { redisKeys } from './redis-keys.js';

export const engineerNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,31}$/, 'engineer names are lower-case letters, digits, ".", "_" or "-", starting with a letter');

const engineerKeySchema = z.object({
  type: z.string(),
  blob: z.string(),
  fingerprint: z.string(),
  comment: z.string(),
  /** Epoch ms after which the relay refuses this key (`tether engineer add … --expires 90d`). */
  expiresAt: z.number().optional(),
});

/** A key counts only until its expiry, if it has one. */
export function keyIsCurrent(key: { expiresAt?: number | undefined }, now: number): boolean {
  return key.expiresAt === undefined || key.expiresAt > now;
}
export const engineerSchema = z.object({
  name: engineerNameSchema,
  keys: z.array(engineerKeySchema).min(1),
  addedAt: z.number(),
});
export type Engineer = z.infer<typeof engineerSchema>;
export type EngineerKey = z.infer<typeof engineerKeySchema>;

/** Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`); refuses private keys. */
export function parseEngineerKey(text: string): EngineerKey {
  const line = text.trim().split('\n').find((l) => l.trim() && !l.startsWith('#'));
  if (!line) throw new AppError('engineer_invalid_key', 'public key file is empty');
  if (line.includes('PRIVATE KEY')) throw new AppError('engineer_invalid_key', 'that is a private key; give the .pub file');
  const parsed = ssh2.utils.parseKey(line);
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.isPrivateKey()) {
    throw new AppError('engineer_invalid_key', 'not an OpenSSH public key line (expected e.g. "ssh-ed25519 AAAA… comment")');
  }
  const blob = parsed.getPublicSSH();
  const fingerprint = keyFingerprint(blob);
  return { type: parsed.type, blob: blob.toString('base64'), fingerprint, comment: parsed.comment ?? '' };
}

/** What relays hear when access is withdrawn: every key of `engineer`, or only `fingerprints`. */
/** With `sid`, only the engineer's channels to that session end (a grant was withdrawn). */
/**
 * What relays hear on the engineer channel: an engineer or some keys removed (connections end), a
 * grant withdrawn (`sid`) or a ticket reassigned away from the engineer (`ticket`, SYSTEM:ID): their
 * channels to that session or ticket end unless they may still reach it.
 */
export const engineerRevocationSchema = z.object({
  engineer: engineerNameSchema,
  fingerprints: z.array(z.string()).optional(),
  sid: z.string().optional(),
  ticket: z.string().optional(),
});
export type EngineerRevocation = z.infer<typeof engineerRevocationSchema>;

/** `SHA256:…` of an SSH public-key blob, as OpenSSH prints it. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export class EngineerStore {
  private readonly key: string;
  private readonly audit: string;
  readonly channel: string;

  constructor(private readonly redis: Redis, prefix: string) {
    const keys = redisKeys(prefix);
    this.key = keys.engineers;
    this.audit = keys.audit;
    this.channel = keys.engineerEvents;
  }

  /** Adds a key to an engineer (creating the engineer); adding the same key twice is a no-op. */
  async addKey(name: string, key: EngineerKey, now: number): Promise<Engineer> {
    const valid = engineerNameSchema.safeParse(name);
    if (!valid.success) throw new AppError('usage', `invalid engineer name "${name}": ${valid.error.issues[0]?.message}`);
    const existing = await this.get(name);
    const keys = existing ? existing.keys.filter((k) => k.blob !== key.blob) : [];
    const engineer: Engineer = { name, keys: [...keys, key], addedAt: existing?.addedAt ?? now };
    await this.redis.hset(this.key, name, JSON.stringify(engineer));
    return engineer;
  }

  async get(name: string): Promise<Engineer | null> {
    const raw = await this.redis.hget(this.key, name);
    if (!raw) return null;
    const parsed = engineerSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  }

  /** Removes the engineer and every key; relays end the engineer's connections. False if unknown. */
  async remove(name: string, actor: string, now: number): Promise<boolean> {
    const engineer = await this.get(name);
    if (!engineer) return false;
    await this.withdraw({ engineer: name }, actor, now, (m) => m.hdel(this.key, name));
    return true;
  }

  /** Removes one key (by fingerprint); the last key removes the engineer. False if no such key. */
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
    const audit = ['type', rev.fingerprints ? 'engineer.key_removed' : 'engineer.removed', 'engineer', rev.engineer, 'actor', actor];
    if (rev.fingerprints) audit.push('fingerprint', rev.fingerprints.join(','));
    m.xadd(this.audit, '*', ...audit, 'at', String(now));
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
