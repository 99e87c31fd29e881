// Console sign-in and sign-out, and GET /v1/me. Sign-in takes a personal token (or the break-glass
// TETHER_ADMIN_TOKEN) in the body, never in the URL, and is rate-limited per client address (10 a
// minute, counted in Redis so every api process shares the count). The session lives in Redis; the
// browser holds only its id in an HttpOnly, SameSite=Strict cookie.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { AuditLog } from '../shared/store/audit.store.js';
import { redisKeys } from '../shared/store/redis-keys.js';
import { HttpError } from './http-error.js';
import { SESSION_COOKIE } from './operator-auth.js';
import { errorAnswers, errorBody, guarded } from './operator-route.js';
import { operatorViewSchema } from './operator-views.js';
import { registerSignInRateLimit, signInRateLimit } from './sign-in-rate-limit.js';

export interface ConsoleSessionRouteDeps {
  redis: Redis;
  redisPrefix: string;
  audit: AuditLog;
  now: () => number;
  /** Sign-in attempts per client address per minute (default 10). */
  signInPerMinute?: number;
}

const tags = ['console sign-in'];
const meSchema = z.object({ operator: operatorViewSchema, csrf: z.string().optional().describe('only for console sessions') });

/** The `tether_session` cookie's attributes; SSO sign-ins set it with the same ones. */
export function cookieOptions(request: FastifyRequest) {
  // Secure whenever the browser reached us over HTTPS; plain HTTP on loopback or a private network works too.
  return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: request.protocol === 'https' };
}

export async function consoleSessionRoute(app: FastifyInstance, deps: ConsoleSessionRouteDeps): Promise<void> {
  await registerSignInRateLimit(app, deps.redis, redisKeys(deps.redisPrefix).signInRate);
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/v1/console/session',
    {
      config: signInRateLimit(deps.signInPerMinute),
      schema: {
        tags,
        summary: 'Sign in to the console with a personal token; sets the tether_session cookie',
        description: 'No role needed; rate-limited per client address. Changes made with the cookie must send X-CSRF-Token: <csrf>.',
        body: z.object({ token: z.string().min(1).max(500) }),
        response: { 200: meSchema.required({ csrf: true }), 400: errorBody, 401: errorBody, 429: errorBody },
      },
    },
    async (request, reply) => {
      const auth = request.server.operatorAuth;
      const found = await auth.byToken(request.body.token);
      if (!found) {
        request.log.info('console sign-in refused');
        throw new HttpError(401, 'unauthorized', 'unknown token');
      }
      const { id, session } = await auth.consoleSessions.create({ ...found.operator, kind: found.kind }, deps.now());
      await deps.audit.append('console.signed_in', { actor: found.operator.name, via: found.kind }, deps.now());
      reply.setCookie(SESSION_COOKIE, id, cookieOptions(request));
      reply.header('cache-control', 'no-store');
      return { operator: found.operator, csrf: session.csrf };
    },
  );

  r.delete(
    '/v1/console/session',
    guarded('viewer', {
      tags,
      summary: 'Sign out: the console session is deleted and the cookie cleared',
      response: { 200: z.object({ signedOut: z.boolean() }), ...errorAnswers() },
    }),
    async (request, reply: FastifyReply) => {
      const credential = request.operatorCredential;
      if (credential?.via === 'cookie') await request.server.operatorAuth.consoleSessions.delete(credential.sessionId);
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
      return { signedOut: credential?.via === 'cookie' };
    },
  );

  r.get(
    '/v1/me',
    guarded('viewer', {
      tags,
      summary: 'Who is asking, and the CSRF token of a console session',
      response: { 200: meSchema, ...errorAnswers() },
    }),
    async (request, reply) => {
      const credential = request.operatorCredential;
      reply.header('cache-control', 'no-store');
      return { operator: request.operator, ...(credential?.via === 'cookie' ? { csrf: credential.csrf } : {}) };
    },
  );
}
