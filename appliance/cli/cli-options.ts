// The strict option parser of every ktether command: unknown options, missing values and stray
// arguments are usage errors (exit 2). Node built-ins only, so the service client stays light.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../../shared/errors.js';

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
