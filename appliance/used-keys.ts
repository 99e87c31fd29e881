// Local list of consumed key ids (jti): a key this appliance has used, disabled or seen refused is
// never accepted again here, even before the relay would say so.
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { readJsonIfExists, writeJsonAtomic, type AgentPaths } from './agent-home.js';

const usedKeysSchema = z.object({ used: z.array(z.object({ jti: z.string().min(1), at: z.string() })) });
type UsedKeys = z.infer<typeof usedKeysSchema>;

function read(paths: AgentPaths): UsedKeys {
  const parsed = usedKeysSchema.safeParse(readJsonIfExists(paths.usedKeys) ?? { used: [] });
  // A damaged list must not silently reopen used keys: refuse instead.
  if (!parsed.success) throw new AppError('internal', `${paths.usedKeys} is invalid`);
  return parsed.data;
}

export function isKeyUsed(paths: AgentPaths, jti: string): boolean {
  return read(paths).used.some((u) => u.jti === jti);
}

export function markKeyUsed(paths: AgentPaths, jti: string, now: Date = new Date()): void {
  const list = read(paths);
  if (list.used.some((u) => u.jti === jti)) return;
  list.used.push({ jti, at: now.toISOString() });
  writeJsonAtomic(paths.usedKeys, list);
}
