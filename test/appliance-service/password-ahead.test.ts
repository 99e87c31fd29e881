// The service prepares the next generated support password ahead of the click: handed out once,
// only for the provider it was prepared for, and an account made with it stores exactly that hash.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountProvider } from '../../appliance/accounts/account-provider.js';
import { FileAccountProvider, verifyPassword } from '../../appliance/accounts/file-accounts.js';
import { PasswordAhead } from '../../appliance/service/password-ahead.js';
import { eventually } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'password-ahead-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const providerOf = (p: FileAccountProvider): AccountProvider => ({
  kind: p.kind,
  exists: (n) => p.exists(n),
  create: (n, pw, prepared) => p.create(n, pw, prepared),
  remove: (n) => p.remove(n),
});

describe('PasswordAhead', () => {
  it('prepares one password, hands it out once, and the account stores its prepared hash as is', async () => {
    const accounts = new FileAccountProvider(join(dir, 'accounts.json'));
    const ahead = new PasswordAhead(() => accounts, () => undefined);
    expect(ahead.take(accounts)).toBeUndefined(); // nothing made yet: a click hashes its own
    ahead.refill();
    ahead.refill(); // one at a time
    const ready = await eventually(() => ahead.take(accounts), 5_000);
    expect(ready.password.length).toBeGreaterThanOrEqual(16);
    expect(verifyPassword(ready.prepared, ready.password)).toBe(true);
    expect(ahead.take(accounts)).toBeUndefined(); // never handed out twice

    await accounts.create('kace_support', ready.password, ready.prepared);
    expect(accounts.read().kace_support?.passwordHash).toBe(ready.prepared);
    // Something that is not a prepared hash is not stored: the password is hashed again.
    await accounts.create('kace_support', ready.password, 'plain-text');
    const stored = accounts.read().kace_support?.passwordHash ?? '';
    expect(stored).not.toBe('plain-text');
    expect(verifyPassword(stored, ready.password)).toBe(true);

    // The next one is a different password.
    ahead.refill();
    const next = await eventually(() => ahead.take(accounts), 5_000);
    expect(next.password).not.toBe(ready.password);
  });

  it('drops a password prepared for another provider (the config changed), and does nothing for providers without prepare', async () => {
    const real = new FileAccountProvider(join(dir, 'a.json'));
    let prepared!: () => void;
    const done = new Promise<void>((resolve) => (prepared = resolve));
    const first: AccountProvider = { ...providerOf(real), prepare: async (pw) => real.prepare(pw).finally(() => setImmediate(prepared)) };
    let current = first;
    const ahead = new PasswordAhead(() => current, () => undefined);
    ahead.refill();
    await done;
    // Control: with the provider unchanged, that password would have been handed out.
    const control = new PasswordAhead(() => first, () => undefined);
    control.refill();
    expect(await eventually(() => control.take(first), 5_000)).toMatchObject({ password: expect.any(String) });
    current = new FileAccountProvider(join(dir, 'b.json'));
    expect(ahead.take(current)).toBeUndefined();
    expect(ahead.take(first)).toBeUndefined(); // dropped, not kept for later

    const noPrepare: AccountProvider = { kind: 'linux', exists: async () => false, create: async () => undefined, remove: async () => undefined };
    const lines: string[] = [];
    const plain = new PasswordAhead(() => noPrepare, (l) => lines.push(l));
    plain.refill();
    await new Promise((r) => setTimeout(r, 100));
    expect(plain.take(noPrepare)).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('logs a provider that cannot prepare, and a click then simply gets nothing ahead', async () => {
    const failing: AccountProvider = {
      kind: 'file',
      exists: async () => false,
      create: async () => undefined,
      remove: async () => undefined,
      prepare: async () => {
        throw new Error('disk full');
      },
    };
    const lines: string[] = [];
    const ahead = new PasswordAhead(() => failing, (l) => lines.push(l));
    ahead.refill();
    await eventually(() => lines.length > 0, 2_000);
    expect(lines).toEqual(['cannot prepare the next support password ahead: disk full']);
    expect(ahead.take(failing)).toBeUndefined();
    expect(lines.join('\n')).not.toMatch(/password:/);
  });
});
