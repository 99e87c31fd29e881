// Linux account provider: the system's own user tools (useradd, usermod, chpasswd, userdel). The
// password reaches chpasswd on stdin only, never argv (visible in ps) and never a log.
import { AppError } from '../../shared/errors.js';
import type { AccountProvider } from './account-provider.js';
import { spawnCommandRunner, type CommandResult, type CommandRunner } from './command-runner.js';

const SHELL = '/bin/bash';

function firstLine(r: CommandResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split('\n')[0] || `exit code ${r.code}`;
}

export class LinuxAccountProvider implements AccountProvider {
  readonly kind = 'linux' as const;
  readonly #run: CommandRunner;

  constructor(run: CommandRunner = spawnCommandRunner) {
    this.#run = run;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#run('id', ['-u', name])).code === 0;
  }

  async create(name: string, password: string): Promise<void> {
    if (/[\r\n]/.test(password)) throw new AppError('account_failed', 'password must not contain line breaks');
    const existed = await this.exists(name);
    // A left-over account (after a crash) keeps its home; make sure it can log in again.
    const made = existed ? await this.#run('usermod', ['-s', SHELL, name]) : await this.#run('useradd', ['-m', '-s', SHELL, name]);
    if (made.code !== 0) throw new AppError('account_failed', `cannot create ${name}: ${firstLine(made)}`);
    const set = await this.#run('chpasswd', [], { stdin: `${name}:${password}\n` });
    if (set.code !== 0) {
      if (!existed) await this.#run('userdel', ['-r', name]);
      throw new AppError('account_failed', `cannot set the password of ${name}: ${firstLine(set)}`);
    }
  }

  async remove(name: string): Promise<void> {
    if (!(await this.exists(name))) return;
    const r = await this.#run('userdel', ['-r', name]);
    // userdel exits non-zero when only the mail spool or home was missing; the account is what matters.
    if (r.code !== 0 && (await this.exists(name))) throw new AppError('account_failed', `cannot remove ${name}: ${firstLine(r)}`);
  }
}
