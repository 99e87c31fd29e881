// The engineer registry: engineer name → OpenSSH public keys, what an engineer record is and what
// every engineer directory does. The relay authenticates engineers against it; the operator CLI and
// API edit it. Implementations: redis-engineer.store.ts, memory/memory-engineer.store.ts.
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { z } from 'zod';
import { AppError } from '../errors.js';

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

/** Refuses a name that is no engineer name, as a usage error. */
export function assertEngineerName(name: string): void {
  const valid = engineerNameSchema.safeParse(name);
  if (!valid.success) throw new AppError('usage', `invalid engineer name "${name}": ${valid.error.issues[0]?.message}`);
}

/** `existing` (or a new engineer) with `key` added, a key already there replaced; refuses an invalid name. */
export function engineerWithKey(existing: Engineer | null, name: string, key: EngineerKey, now: number): Engineer {
  assertEngineerName(name);
  const keys = existing ? existing.keys.filter((k) => k.blob !== key.blob) : [];
  return { name, keys: [...keys, key], addedAt: existing?.addedAt ?? now };
}

/** The audit entry of an added key (type and fields, without `at`). */
export function additionAudit(name: string, key: EngineerKey, actor: string): { type: string; fields: Record<string, string> } {
  const fields: Record<string, string> = { engineer: name, fingerprint: key.fingerprint, actor };
  if (key.expiresAt !== undefined) fields.expiresAt = new Date(key.expiresAt).toISOString();
  return { type: 'engineer.added', fields };
}

/** The audit entry of a withdrawal (type and fields, without `at`). */
export function withdrawalAudit(rev: EngineerRevocation, actor: string): { type: string; fields: Record<string, string> } {
  const fields: Record<string, string> = { engineer: rev.engineer, actor };
  if (rev.fingerprints) fields.fingerprint = rev.fingerprints.join(',');
  return { type: rev.fingerprints ? 'engineer.key_removed' : 'engineer.removed', fields };
}

export interface EngineerDirectory {
  /**
   * Adds a key to an engineer (creating the engineer) and audits it (`engineer.added`, by `actor`)
   * in one step: a removal running at the same time is never undone. The same key twice is replaced.
   */
  addKey(name: string, key: EngineerKey, actor: string, now: number): Promise<Engineer>;
  get(name: string): Promise<Engineer | null>;
  /** Removes the engineer and every key (audited, announced: relays end the connections). False if unknown. */
  remove(name: string, actor: string, now: number): Promise<boolean>;
  /** Removes one key (by fingerprint); the last key removes the engineer. False if no such key. */
  removeKey(name: string, fingerprint: string, actor: string, now: number): Promise<boolean>;
  /** By name. */
  list(): Promise<Engineer[]>;
}
