// File-backed account provider for simulated appliances and tests: KTETHER_HOME/accounts.json maps
// a user name to an scrypt hash of its password (never the password itself) and a creation time.
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../agent-home.js';
import type { AccountProvider } from './account-provider.js';
import { hashPasswordAsync } from '../password-hash.js';

const passwordHashSchema = z.string().startsWith('scrypt$');
const accountsSchema = z.record(z.string(), z.object({ passwordHash: passwordHashSchema, createdAt: z.string() }));
type Accounts = z.infer<typeof accountsSchema>;

export { hashPassword, verifyPassword } from '../password-hash.js';

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

  async create(name: string, password: string, prepared?: string): Promise<void> {
    // Hashed off the event loop (a resident service keeps handshaking meanwhile), or ahead of time
    // (prepare), then read-modify-write.
    const passwordHash = prepared !== undefined && passwordHashSchema.safeParse(prepared).success ? prepared : await hashPasswordAsync(password);
    const accounts = this.read();
    accounts[name] = { passwordHash, createdAt: this.#now().toISOString() };
    writeJsonAtomic(this.#path, accounts, 0o600);
  }

  prepare(password: string): Promise<string> {
    return hashPasswordAsync(password);
  }

  async remove(name: string): Promise<void> {
    const accounts = this.read();
    if (!Object.hasOwn(accounts, name)) return;
    delete accounts[name];
    writeJsonAtomic(this.#path, accounts, 0o600);
  }
}
