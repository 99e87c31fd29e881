// The options of `ktether enable` and `ktether reset`, checked the same way whether the command runs
// here or is handed to the service (service-client.ts). Node built-ins and the option parser only,
// so the service client stays light.
import { parseDuration } from '../../shared/duration.js';
import { AppError } from '../../shared/errors.js';
import { parseOptions } from './cli-options.js';

export const DEFAULT_WAIT = '30s';

/** `--key`, `--key-file`, `--description` or `--pending` (exactly one), `--password`, `--timeout` as `waitMs`. */
export function parseEnableOptions(args: string[]) {
  const o = parseOptions(args, {
    key: { type: 'string' },
    'key-file': { type: 'string' },
    password: { type: 'string' },
    description: { type: 'string' },
    pending: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  const sources = [o.key !== undefined, o['key-file'] !== undefined, o.description !== undefined, o.pending === true];
  if (sources.filter(Boolean).length !== 1) throw new AppError('usage', 'give exactly one of --key KEY, --key-file FILE, --description TEXT or --pending');
  return { ...o, waitMs: parseDuration(o.timeout ?? DEFAULT_WAIT) };
}

/** `--timeout` as `waitMs`. */
export function parseResetOptions(args: string[]) {
  const o = parseOptions(args, { timeout: { type: 'string' } });
  return { ...o, waitMs: parseDuration(o.timeout ?? DEFAULT_WAIT) };
}
