// A session id given positionally or as `--session ID` (ids never start with "-", but older ones
// might, and `--session=-abc` always works). Exactly one of the two.
import { AppError } from '../../shared/errors.js';

export function sessionIdOf(positional: string | undefined, option: string | undefined): string {
  if (positional && option && positional !== option) throw new AppError('usage', 'give the session id once: as the argument or as --session ID');
  const id = positional ?? option;
  if (!id) throw new AppError('usage', 'give a session id (the argument or --session ID)');
  return id;
}
