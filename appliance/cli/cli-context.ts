// What every ktether command receives: its output lines, the environment (only to find
// KTETHER_HOME and hand on to the daemon), the clock, and an injectable command runner for the
// linux account provider. Also the strict option parser that turns mistakes into usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadAgentHome } from '../../shared/config.js';
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

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new AppError('usage', (err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
}

export function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new AppError('usage', `missing --${name}`);
  return value;
}
