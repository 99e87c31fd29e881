// File-backed account provider for simulated appliances and tests: KTETHER_HOME/accounts.json maps
// a user name to an scrypt hash of its password (never the password itself) and a creation time.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../agent-home.js';
import type { AccountProvider } from './account-provider.js';

const accountsSchema = z.record(z.string(), z.object({ passwordHash: z.string().startsWith('scrypt$'), createdAt: z.string() }));
type Accounts = z.infer<typeof accountsSchema>;

const SCRYPT = { N: 16_384, r: 8, p: 1, keyLen: 32 } as const;

/** `scrypt$N$r$p$<salt b64>$<hash b64>`. */
export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
  const hash = scryptSync(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(stored: string, password: string): boolean {
  const [tag, n, r, p, salt, hash] = stored.split('$');
  if (tag !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(expected, actual);
}

export class FileAccountProvider implements AccountProvider {
  readonly kind = 'file' as const;
  readonly #path: string;
  readonly #now: () => Date;

  constructor(path: string, now: () => Date = () => new Date()) {
    this.#path = path;
    this.#now = now;
  }

  read(): Accounts {
    const parsed = accountsSchema.safeParse(readJsonIfExists(this.#path) ?? {});
    if (!parsed.success) throw new AppError('account_failed', `${this.#path} is invalid`);
    return parsed.data;
  }

  async exists(name: string): Promise<boolean> {
    return Object.hasOwn(this.read(), name);
  }

  async create(name: string, password: string): Promise<void> {
    const accounts = this.read();
    accounts[name] = { passwordHash: hashPassword(password), createdAt: this.#now().toISOString() };
    writeJsonAtomic(this.#path, accounts, 0o600);
  }

  async remove(name: string): Promise<void> {
    const accounts = this.read();
    if (!Object.hasOwn(accounts, name)) return;
    delete accounts[name];
    writeJsonAtomic(this.#path, accounts, 0o600);
  }
}
