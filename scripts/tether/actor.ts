// Who a CLI command acts as (the audit `actor`): `--as NAME`, a registered operator whose role must
// allow the command, or by default the OS user as `cli:<user>` (the CLI holds Redis access, so the
// default is a name for the record, not an authorisation).
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { checkRole, type OperatorRole } from '../../shared/operator-role.js';
import type { OperatorContext } from './operator-context.js';

export interface ActorOption {
  as?: string;
}

export function withActorOption(cmd: Command): Command {
  return cmd.option('--as <name>', 'the registered operator doing this, named in the audit (default: cli:<os user>)');
}

function osUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    // No passwd entry (containers running as a bare uid).
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The actor name for the audit; refuses an unknown `--as` operator or one whose role is too low. */
export async function actorFor(ctx: OperatorContext, as: string | undefined, needed: OperatorRole, action: string): Promise<string> {
  if (as === undefined) return `cli:${osUser()}`;
  const operator = await ctx.operators.get(as);
  if (!operator) throw new AppError('operator_not_found', `--as ${as}: no operator named ${as} (see tether operator list)`);
  checkRole(operator, needed, action);
  return operator.name;
}
