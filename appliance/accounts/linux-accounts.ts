// Linux account provider: the system's own user tools (useradd, usermod, chpasswd, pkill, userdel).
// The password reaches chpasswd on stdin only, never argv (visible in ps) and never a log.
import { AppError } from '../../shared/errors.js';
import type { AccountProvider } from './account-provider.js';
import { spawnCommandRunner, type CommandResult, type CommandRunner } from './command-runner.js';

const SHELL = '/bin/bash';
const NO_LOGIN = '/usr/sbin/nologin';
/** pkill: 0 signalled some, 1 none matched; both are fine before userdel. */
const PKILL_NONE = 1;
/** userdel: the user is logged in or still has processes (SIGKILLed ones may need a moment to go). */
const USERDEL_IN_USE = 8;
const SETTLE_MS = 500;

function firstLine(r: CommandResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split('\n')[0] || `exit code ${r.code}`;
}

export interface LinuxAccountOptions {
  /** Wait before retrying a userdel refused because killed processes were still going (tests: 0). */
  settleMs?: number;
}

export class LinuxAccountProvider implements AccountProvider {
  readonly kind = 'linux' as const;
  readonly #run: CommandRunner;
  readonly #settleMs: number;

  constructor(run: CommandRunner = spawnCommandRunner, opts: LinuxAccountOptions = {}) {
    this.#run = run;
    this.#settleMs = opts.settleMs ?? SETTLE_MS;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#run('id', ['-u', name])).code === 0;
  }

  async create(name: string, password: string): Promise<void> {
    if (/[\r\n]/.test(password)) throw new AppError('account_failed', 'password must not contain line breaks');
    const existed = await this.exists(name);
    // A left-over account (after a crash, or locked by a failed remove) keeps its home; make sure
    // it can log in again: no expiry, a shell, and chpasswd's new hash replaces the lock.
    const made = existed ? await this.#run('usermod', ['-e', '', '-s', SHELL, name]) : await this.#run('useradd', ['-m', '-s', SHELL, name]);
    if (made.code !== 0) throw new AppError('account_failed', `cannot create ${name}: ${firstLine(made)}`);
    const set = await this.#run('chpasswd', [], { stdin: `${name}:${password}\n` });
    if (set.code !== 0) {
      if (!existed) await this.#run('userdel', ['-r', name]);
      throw new AppError('account_failed', `cannot set the password of ${name}: ${firstLine(set)}`);
    }
  }

  /**
   * Locks the account first (password locked, expired, no shell), so it cannot log in again
   * whatever follows; ends its processes (an engineer's session keeps userdel from working); then
   * removes it and its home.
   */
  async remove(name: string): Promise<void> {
    if (!(await this.exists(name))) return;
    const locked = await this.#run('usermod', ['-L', '-e', '1', '-s', NO_LOGIN, name]);
    const killed = await this.#run('pkill', ['-KILL', '-u', name]);
    let r = await this.#run('userdel', ['-r', name]);
    if (r.code === USERDEL_IN_USE && killed.code === 0) {
      await new Promise((resolve) => setTimeout(resolve, this.#settleMs));
      r = await this.#run('userdel', ['-r', name]);
    }
    // userdel exits non-zero when only the mail spool or home was missing; the account is what matters.
    if (r.code === 0 || !(await this.exists(name))) return;
    const left = locked.code === 0 ? 'it is locked (no password, expired, no shell)' : `it could not be locked either (${firstLine(locked)})`;
    const procs = killed.code === 0 || killed.code === PKILL_NONE ? '' : `; its processes could not be ended (${firstLine(killed)})`;
    throw new AppError('account_failed', `cannot remove ${name}: ${firstLine(r)}; ${left}${procs}`);
  }
}
