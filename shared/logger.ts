// Structured logging (pino). Secrets never go in: keys, seeds and passwords are redacted by path
// as a second line of defence; callers log session ids, never key text.
import { pino, type DestinationStream, type Logger } from 'pino';

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
