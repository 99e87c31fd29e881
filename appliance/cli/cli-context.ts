// What every ktether command receives: its output lines, the environment (only to find
// KTETHER_HOME and hand on to the daemon), the clock, and an injectable command runner for the
// linux account provider. The strict option parser (cli-options.ts) is re-exported here.
import { loadAgentHome } from '../../shared/agent-env.js';
import { AppError } from '../../shared/errors.js';
import { agentPaths, type AgentPaths } from '../agent-home.js';
import type { CommandRunner } from '../accounts/command-runner.js';
import { logLine } from '../log-line.js';

import type { PendingDaemon } from '../daemon/spawn-daemon.js';

export interface CliContext {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  runner?: CommandRunner | undefined;
  /** `enable` only: the daemon the bin entry started in standby before loading anything. */
  early?: PendingDaemon | undefined;
}

export function homePaths(ctx: CliContext): AgentPaths {
  return agentPaths(loadAgentHome(ctx.env));
}

/** `[<date>] [ktether] message` on stdout. */
export function say(ctx: CliContext, message: string): void {
  ctx.out(logLine(message, ctx.now()));
}

export { parseOptions, requireOption } from './cli-options.js';
