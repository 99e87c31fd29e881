// Redis holds JSON written by us, but anything in Redis is untrusted on the way back: a value that
// is missing, is not JSON or does not match its schema reads as absent (null), never as a throw.
import type { z } from 'zod';

export function parseStoredJson<T>(schema: z.ZodType<T>, raw: string | null | undefined): T | null {
  if (!raw) return null;
  try {
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
