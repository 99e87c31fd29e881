// The engineer registry: engineer name → OpenSSH public keys. The relay authenticates engineers
// against it; the operator CLI edits it.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import ssh2 from 'ssh2';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { redisKeys } from './redis-keys.js';

export const engineerNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,31}$/, 'engineer names are lower-case letters, digits, ".", "_" or "-", starting with a letter');

const engineerKeySchema = z.object({ type: z.string(), blob: z.string(), fingerprint: z.string(), comment: z.string() });
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
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { type: parsed.type, blob: blob.toString('base64'), fingerprint, comment: parsed.comment ?? '' };
}

export class EngineerStore {
  private readonly key: string;

  constructor(private readonly redis: Redis, prefix: string) {
    this.key = redisKeys(prefix).engineers;
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

  async remove(name: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, name)) === 1;
  }

  async list(): Promise<Engineer[]> {
    const all = await this.redis.hvals(this.key);
    return all
      .map((raw) => engineerSchema.safeParse(JSON.parse(raw)))
      .flatMap((r) => (r.success ? [r.data] : []))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
