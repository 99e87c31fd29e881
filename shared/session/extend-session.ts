// Moving a live session's expiry: the one rule the API, the CLI and the console share. The new
// expiry counts from now (whole seconds); the 12-week cap counts from issue time.
import { MAX_TTL_MS, formatDuration } from '../duration.js';
import { AppError } from '../errors.js';
import type { SessionStore } from '../store/session.store.js';
import type { SessionRecord } from './session.schema.js';

export async function extendSession(sessions: SessionStore, req: { id: string; ttlMs: number; actor: string; now: number }): Promise<SessionRecord> {
  const s = await sessions.require(req.id);
  if (s.state === 'CLOSED') throw new AppError('session_closed', `session ${s.id} is closed`);
  const expiresAt = Math.floor((req.now + req.ttlMs) / 1000) * 1000;
  if (expiresAt - s.issuedAt > MAX_TTL_MS) {
    throw new AppError('ttl_too_long', `a session may live at most ${formatDuration(MAX_TTL_MS)} from issue; latest possible expiry is ${new Date(s.issuedAt + MAX_TTL_MS).toISOString()}`);
  }
  return sessions.extend(s.id, expiresAt, req.actor, req.now);
}
