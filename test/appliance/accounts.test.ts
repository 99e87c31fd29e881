// The account providers: file-backed (hash only, never the password) and linux (the exact command
// lines and stdin it would run, checked with a recording runner instead of running them).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors.js';
import { SUPPORT_USER } from '../../appliance/accounts/account-provider.js';
import type { CommandResult, CommandRunner } from '../../appliance/accounts/command-runner.js';
import { FileAccountProvider, verifyPassword } from '../../appliance/accounts/file-accounts.js';
import { LinuxAccountProvider } from '../../appliance/accounts/linux-accounts.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('file account provider', () => {
  it('stores an scrypt hash and creation time, never the password, in a 0600 file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktether-acc-'));
    dirs.push(dir);
    const path = join(dir, 'accounts.json');
    const p = new FileAccountProvider(path, () => new Date('2026-01-02T03:04:05Z'));
    expect(await p.exists(SUPPORT_USER)).toBe(false);
    await p.create(SUPPORT_USER, 'Correct-Horse-42');
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('Correct-Horse-42');
    const stored = JSON.parse(text) as Record<string, { passwordHash: string; createdAt: string }>;
    expect(Object.keys(stored)).toEqual([SUPPORT_USER]);
    expect(stored[SUPPORT_USER]!.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(stored[SUPPORT_USER]!.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(verifyPassword(stored[SUPPORT_USER]!.passwordHash, 'Correct-Horse-42')).toBe(true);
    expect(verifyPassword(stored[SUPPORT_USER]!.passwordHash, 'correct-horse-42')).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await p.exists(SUPPORT_USER)).toBe(true);
  });

  it('resets the password of a left-over account and removes it idempotently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktether-acc-'));
    dirs.push(dir);
    const p = new FileAccountProvider(join(dir, 'accounts.json'));
    await p.create(SUPPORT_USER, 'first-password');
    await p.create(SUPPORT_USER, 'second-password');
    expect(verifyPassword(p.read()[SUPPORT_USER]!.passwordHash, 'second-password')).toBe(true);
    await p.remove(SUPPORT_USER);
    await p.remove(SUPPORT_USER);
    expect(await p.exists(SUPPORT_USER)).toBe(false);
    expect(p.read()).toEqual({});
  });
});

interface Call {
  line: string;
  stdin: string | undefined;
}

/** Answers each command from `results` (by command name, in order) and records it. */
function recordingRunner(results: Record<string, number[]>): { run: CommandRunner; calls: Call[] } {
  const calls: Call[] = [];
  const run: CommandRunner = async (command, args, opts = {}) => {
    calls.push({ line: [command, ...args].join(' '), stdin: opts.stdin });
    const code = results[command]?.shift() ?? 0;
    const r: CommandResult = { code, stdout: '', stderr: code ? `${command}: failed with ${code}\nsecond line` : '' };
    return r;
  };
  return { run, calls };
}

describe('linux account provider', () => {
  it('creates the account with useradd and sets the password through chpasswd’s stdin only', async () => {
    const { run, calls } = recordingRunner({ id: [1] });
    await new LinuxAccountProvider(run).create(SUPPORT_USER, 'Gen3rated-Pass');
    expect(calls).toEqual([
      { line: 'id -u kace_support', stdin: undefined },
      { line: 'useradd -m -s /bin/bash kace_support', stdin: undefined },
      { line: 'chpasswd', stdin: 'kace_support:Gen3rated-Pass\n' },
    ]);
    expect(calls.filter((c) => c.line.includes('Gen3rated-Pass'))).toEqual([]);
  });

  it('reuses a left-over account: usermod lifts the expiry and restores the shell, then chpasswd', async () => {
    const { run, calls } = recordingRunner({ id: [0] });
    await new LinuxAccountProvider(run).create(SUPPORT_USER, 'Gen3rated-Pass');
    expect(calls.map((c) => c.line)).toEqual(['id -u kace_support', 'usermod -e  -s /bin/bash kace_support', 'chpasswd']);
  });

  it('locks the account and ends its processes before userdel -r, and does nothing when there is none', async () => {
    const present = recordingRunner({ id: [0], pkill: [1] });
    await new LinuxAccountProvider(present.run).remove(SUPPORT_USER);
    expect(present.calls.map((c) => c.line)).toEqual([
      'id -u kace_support',
      'usermod -L -e 1 -s /usr/sbin/nologin kace_support',
      'pkill -KILL -u kace_support',
      'userdel -r kace_support',
    ]);
    const absent = recordingRunner({ id: [1] });
    await new LinuxAccountProvider(absent.run).remove(SUPPORT_USER);
    expect(absent.calls.map((c) => c.line)).toEqual(['id -u kace_support']);
  });

  it('undoes a fresh account whose password could not be set, and says why in one line', async () => {
    const { run, calls } = recordingRunner({ id: [1], chpasswd: [1] });
    let error: unknown;
    try {
      await new LinuxAccountProvider(run).create(SUPPORT_USER, 'Gen3rated-Pass');
    } catch (err) {
      error = err;
    }
    expect(isAppError(error, 'account_failed')).toBe(true);
    expect((error as Error).message).toBe('cannot set the password of kace_support: chpasswd: failed with 1');
    expect(calls.map((c) => c.line)).toEqual(['id -u kace_support', 'useradd -m -s /bin/bash kace_support', 'chpasswd', 'userdel -r kace_support']);
  });

  it('refuses a password with a line break (it would smuggle a second chpasswd line)', async () => {
    const { run, calls } = recordingRunner({});
    await expect(new LinuxAccountProvider(run).create(SUPPORT_USER, 'pw\nroot:x')).rejects.toMatchObject({ code: 'account_failed' });
    expect(calls).toEqual([]);
  });

  it('reports a failed userdel when the account is still there, which is locked by then', async () => {
    const { run, calls } = recordingRunner({ id: [0, 0], pkill: [1], userdel: [8] });
    await expect(new LinuxAccountProvider(run, { settleMs: 0 }).remove(SUPPORT_USER)).rejects.toMatchObject({
      code: 'account_failed',
      message: 'cannot remove kace_support: userdel: failed with 8; it is locked (no password, expired, no shell)',
    });
    expect(calls.map((c) => c.line)).toEqual(['id -u kace_support', 'usermod -L -e 1 -s /usr/sbin/nologin kace_support', 'pkill -KILL -u kace_support', 'userdel -r kace_support', 'id -u kace_support']);
  });

  it('retries userdel once when the processes it just killed were still going', async () => {
    const { run, calls } = recordingRunner({ id: [0], pkill: [0], userdel: [8, 0] });
    await new LinuxAccountProvider(run, { settleMs: 0 }).remove(SUPPORT_USER);
    expect(calls.map((c) => c.line)).toEqual(['id -u kace_support', 'usermod -L -e 1 -s /usr/sbin/nologin kace_support', 'pkill -KILL -u kace_support', 'userdel -r kace_support', 'userdel -r kace_support']);
  });
});
