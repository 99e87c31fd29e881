// scrypt password hashes in one format, `scrypt$N$r$p$<salt b64>$<hash b64>`: the file account
// provider's accounts and the Tether page's local admin password. The async forms run on libuv's
// thread pool, so a resident service keeps serving (and its tunnel keeps handshaking) meanwhile.
import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const SCRYPT = { N: 16_384, r: 8, p: 1, keyLen: 32 } as const;

function scryptAsync(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

function format(salt: Buffer, hash: Buffer): string {
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function parse(stored: string): { n: number; r: number; p: number; salt: Buffer; hash: Buffer } | undefined {
  const [tag, n, r, p, salt, hash] = stored.trim().split('$');
  if (tag !== 'scrypt' || !salt || !hash || ![n, r, p].every((x) => /^\d{1,7}$/.test(x ?? ''))) return undefined;
  const parsed = { n: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  // Parameters from a file are bounded: a tampered file must not make a sign-in cost gigabytes.
  if (parsed.n > 1 << 20 || parsed.r > 32 || parsed.p > 16 || parsed.hash.length < 16 || parsed.hash.length > 64) return undefined;
  return parsed;
}

export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
  return format(salt, scryptSync(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }));
}

export async function hashPasswordAsync(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  return format(salt, await scryptAsync(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }));
}

export function verifyPassword(stored: string, password: string): boolean {
  const s = parse(stored);
  if (!s) return false;
  return timingSafeEqual(s.hash, scryptSync(password, s.salt, s.hash.length, { N: s.n, r: s.r, p: s.p, maxmem: 256 * s.n * s.r }));
}

export async function verifyPasswordAsync(stored: string, password: string): Promise<boolean> {
  const s = parse(stored);
  if (!s) return false;
  return timingSafeEqual(s.hash, await scryptAsync(password, s.salt, s.hash.length, { N: s.n, r: s.r, p: s.p, maxmem: 256 * s.n * s.r }));
}
