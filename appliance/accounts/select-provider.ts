// Builds the account provider that `ktether init --accounts file|linux` chose.
import type { AccountProviderKind } from '../agent-config.js';
import type { AgentPaths } from '../agent-home.js';
import type { AccountProvider } from './account-provider.js';
import type { CommandRunner } from './command-runner.js';
import { FileAccountProvider } from './file-accounts.js';
import { LinuxAccountProvider } from './linux-accounts.js';

export function accountProviderFor(kind: AccountProviderKind, paths: AgentPaths, runner?: CommandRunner): AccountProvider {
  return kind === 'linux' ? new LinuxAccountProvider(runner) : new FileAccountProvider(paths.accounts);
}
