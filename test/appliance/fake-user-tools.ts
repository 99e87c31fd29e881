// An injected CommandRunner standing in for the system's user tools (id, useradd, usermod, chpasswd,
// pkill, userdel) over an in-memory user table, for tests of the linux account provider end to end.
// `userdelRefuses` makes userdel fail the way it does while the user is logged in (exit 8).
import type { CommandResult, CommandRunner } from '../../appliance/accounts/command-runner.js';

export interface FakeUser {
  shell: string;
  /** The password as chpasswd set it; '!' prefixed once usermod -L locked it. */
  password: string;
  expired: boolean;
}

export interface FakeUserTools {
  run: CommandRunner;
  users: Map<string, FakeUser>;
  lines: string[];
  userdelRefuses: boolean;
  /** While set, chpasswd waits for it (an account step that takes its time). */
  chpasswdWaits: Promise<void> | undefined;
}

export function fakeUserTools(): FakeUserTools {
  const tools: FakeUserTools = { run: undefined as unknown as CommandRunner, users: new Map(), lines: [], userdelRefuses: false, chpasswdWaits: undefined };
  const ok: CommandResult = { code: 0, stdout: '', stderr: '' };
  tools.run = async (command, args, opts = {}) => {
    tools.lines.push([command, ...args].join(' '));
    const name = args.at(-1) ?? '';
    const user = tools.users.get(name);
    switch (command) {
      case 'id':
        return user ? { code: 0, stdout: '1001\n', stderr: '' } : { code: 1, stdout: '', stderr: `id: '${name}': no such user` };
      case 'useradd':
        tools.users.set(name, { shell: args[args.indexOf('-s') + 1]!, password: '!', expired: false });
        return ok;
      case 'usermod': {
        if (!user) return { code: 6, stdout: '', stderr: `usermod: user '${name}' does not exist` };
        if (args.includes('-L')) user.password = `!${user.password}`;
        if (args.includes('-s')) user.shell = args[args.indexOf('-s') + 1]!;
        if (args.includes('-e')) user.expired = args[args.indexOf('-e') + 1] !== '';
        return ok;
      }
      case 'chpasswd': {
        await tools.chpasswdWaits;
        const [who, password] = (opts.stdin ?? '').trimEnd().split(':');
        const u = tools.users.get(who ?? '');
        if (!u || password === undefined) return { code: 1, stdout: '', stderr: 'chpasswd: line 1: user not found' };
        u.password = password;
        return ok;
      }
      case 'pkill':
        return { code: 1, stdout: '', stderr: '' };
      case 'userdel':
        if (tools.userdelRefuses) return { code: 8, stdout: '', stderr: `userdel: user ${name} is currently used by process 4242` };
        tools.users.delete(name);
        return ok;
      default:
        return { code: 127, stdout: '', stderr: `${command}: not found` };
    }
  };
  return tools;
}
