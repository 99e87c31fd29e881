// Redis error replies by their code, the first word of the reply (`BUSYGROUP Consumer Group name
// already exists` → BUSYGROUP), so callers branch on a code and never on message text.
import { ReplyError } from 'ioredis';

/** The reply code of a Redis error reply (`BUSYGROUP`, `NOGROUP`, `ERR`, …), or null for any other error. */
export function redisReplyCode(err: unknown): string | null {
  if (!(err instanceof ReplyError)) return null;
  return /^([A-Z][A-Z_]*)\b/.exec((err as Error).message)?.[1] ?? null;
}
