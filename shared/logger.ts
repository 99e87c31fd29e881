// Structured logging (pino). Secrets never go in: keys, seeds and passwords are redacted by path
// as a second line of defence; callers log session ids, never key text.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { destination, multistream, pino, type DestinationStream, type Level, type Logger } from 'pino';
import { humanLogStream } from './human-log.js';

export type { DestinationStream, Logger };

/** Writes to stdout unless `destination` is given (tests pass a capture stream). */
export function createLogger(name: string, level = 'info', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: ['key', '*.key', 'password', '*.password', 'cred', '*.cred', 'seed', 'token', '*.token', 'authorization'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export interface ServerLogOptions {
  /** `json` (default, for log shippers) or `human` (one readable line each, for a console). */
  format: 'json' | 'human';
  /** When set, every line also goes as JSON to `<dir>/tether.log` (0600), and the console shows warnings and errors only. */
  dir?: string | undefined;
}

/** The server processes' logger: JSON to stdout, or human lines, optionally with a JSON file. */
export function createServerLogger(name: string, level: string, opts: ServerLogOptions): Logger {
  const console = opts.format === 'human' ? humanLogStream(process.stdout) : process.stdout;
  if (!opts.dir) return createLogger(name, level, opts.format === 'human' ? console : undefined);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const file = destination({ dest: join(opts.dir, 'tether.log'), mode: 0o600, mkdir: true, sync: false });
  const streams = multistream([
    { level: level as Level, stream: file },
    { level: 'warn', stream: console },
  ]);
  return createLogger(name, level, streams);
}
