// How operator commands end: JSON or text on stdout, one line on stderr and exit code 1 for a
// refusal, 2 for a usage error (contract: 0 ok, 1 refused/failed, 2 usage).
import { AppError, describeError } from '../../shared/errors.js';
import { OperatorContext } from './operator-context.js';

export type Run = (fn: (ctx: OperatorContext) => Promise<void>) => Promise<void>;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Codes that mean "the command line asked for something impossible": exit 2, like a parser error. */
const USAGE_CODES: readonly string[] = ['usage', 'ttl_too_long'];

export function exitCodeOf(err: unknown): number {
  if (err instanceof AppError) return USAGE_CODES.includes(err.code) ? 2 : 1;
  return 1;
}

/** Runs one command with its own context and closes it, whatever happens. */
export const runCommand: Run = async (fn) => {
  let ctx: OperatorContext | undefined;
  try {
    ctx = new OperatorContext();
    await fn(ctx);
  } catch (err) {
    const shown = ctx?.redisFailure ?? err;
    process.stderr.write(`tether: ${describeError(shown)}\n`);
    process.exitCode = exitCodeOf(shown);
  } finally {
    await ctx?.close();
  }
};
