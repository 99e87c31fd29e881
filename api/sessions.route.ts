// The operator API (bearer TETHER_ADMIN_TOKEN): list and show sessions, revoke one, extend one.
// Revoke and extend go through the session store, whose audit entries drive the same teardown
// and rescheduling as every other path.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkTtl, parseDuration } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import { sessionView } from '../shared/session/session.schema.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { HttpError } from './http-error.js';

export interface SessionsRouteDeps {
  sessions: SessionStore;
  adminToken: string | undefined;
  now: () => number;
}

const idParams = z.object({ id: z.string().min(1).max(64) });
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(5_000).default(500) });
const extendBody = z.object({ ttl: z.string().min(2).max(16) });

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HttpError(400, 'invalid_body', i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid request');
  }
  return r.data;
}

export async function sessionsRoute(app: FastifyInstance, deps: SessionsRouteDeps): Promise<void> {
  const expected = deps.adminToken ? digest(deps.adminToken) : undefined;
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!expected) throw new HttpError(503, 'unavailable', 'operator API is disabled: TETHER_ADMIN_TOKEN is not set');
    const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    // Digests have equal length, so the comparison is constant-time whatever was sent.
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
  });

  app.get('/v1/sessions', async (request) => {
    const { limit } = parseOr400(listQuery, request.query);
    return { sessions: (await deps.sessions.list(limit)).map(sessionView) };
  });

  app.get('/v1/sessions/:id', async (request) => {
    const { id } = parseOr400(idParams, request.params);
    return { session: sessionView(await deps.sessions.require(id)) };
  });

  app.post('/v1/sessions/:id/revoke', async (request) => {
    const { id } = parseOr400(idParams, request.params);
    await deps.sessions.close(id, 'revoked', 'operator', deps.now());
    return { session: sessionView(await deps.sessions.require(id)) };
  });

  app.post('/v1/sessions/:id/extend', async (request) => {
    const { id } = parseOr400(idParams, request.params);
    const { ttl } = parseOr400(extendBody, request.body ?? {});
    const session = await deps.sessions.require(id);
    if (session.state === 'CLOSED') throw new AppError('session_closed', `session ${id} is closed`);
    // The new expiry counts from now; the 12-week cap counts from issue time.
    const expiresAt = Math.floor((deps.now() + parseDuration(ttl)) / 1000) * 1000;
    checkTtl(expiresAt - session.issuedAt);
    const extended = await deps.sessions.extend(id, expiresAt, 'operator', deps.now());
    return { session: sessionView(extended) };
  });
}
