// Structured logging (pino). Secrets never go in: keys, seeds and passwords are redacted by path
// as a second line of defence; callers log session ids, never key text.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['key', '*.key', 'password', '*.password', 'cred', '*.cred', 'seed', 'token', '*.token', 'authorization'], censor: '[redacted]' },
  });
}
