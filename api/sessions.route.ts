// Sessions in the operator API: list with filters and paging, one session with its timeline and
// engineer channels (from the audit stream), revoke and extend. Revoke and extend go through the
// session store, whose audit entries (actor = the operator) drive the same teardown and
// rescheduling as every other path.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { parseDuration } from '../shared/duration.js';
import { SESSION_STATES } from '../shared/session/session-machine.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import { pageSessions } from '../shared/store/session-page.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { TicketLinker } from '../ticketing/ticket-links.js';
import { errorAnswers, guarded } from './operator-route.js';
import { apiSessionView, auditView, auditViewSchema, channelViewSchema, channelsOf, nextCursorSchema, pageQuery, sessionViewSchema } from './operator-views.js';
import { extendSession } from '../shared/session/extend-session.js';

export interface SessionsRouteDeps {
  redis: Redis;
  redisPrefix: string;
  sessions: SessionStore;
  audit: AuditLog;
  now: () => number;
  /** The ticket's link in its help desk (ticketing/ticket-links.ts). */
  ticketLink: TicketLinker;
  /** A revoke or extend answered 200 is on the Redis replicas first (survives a failover); absent: no wait. */
  replicated?: (() => Promise<void>) | undefined;
}

/** The timeline is read from a day before issue: stream ids use Redis's clock, not ours. */
const TIMELINE_SLACK_MS = 86_400_000;

const tags = ['sessions'];
export const sessionIdParams = z.object({ id: z.string().min(1).max(64) });
const sessionAnswer = z.object({ session: sessionViewSchema });

export async function sessionsRoute(app: FastifyInstance, deps: SessionsRouteDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const sessionView = (s: SessionRecord) => apiSessionView(s, deps.ticketLink);

  r.get(
    '/v1/sessions',
    guarded('viewer', {
      tags,
      summary: 'Sessions, newest first, filtered and paged',
      querystring: z.object({
        state: z.enum(SESSION_STATES).optional(),
        serial: z.string().min(1).max(64).optional().describe('exact, case-insensitive'),
        ticket: z.string().min(1).max(200).optional().describe('SYSTEM:ID, or the ticket id alone'),
        product: z.enum(['sma', 'sda']).optional(),
        ...pageQuery,
      }),
      response: { 200: z.object({ sessions: z.array(sessionViewSchema), nextCursor: nextCursorSchema }), ...errorAnswers() },
    }),
    async (request) => {
      const page = await pageSessions(deps.redis, deps.redisPrefix, request.query);
      return { sessions: page.sessions.map(sessionView), nextCursor: page.next };
    },
  );

  r.get(
    '/v1/sessions/:id',
    guarded('viewer', {
      tags,
      summary: 'One session with its timeline (audit entries, oldest first) and engineer channels',
      params: sessionIdParams,
      response: {
        200: z.object({ session: sessionViewSchema, timeline: z.array(auditViewSchema), channels: z.array(channelViewSchema) }),
        ...errorAnswers(404),
      },
    }),
    async (request) => {
      const session = await deps.sessions.require(request.params.id);
      const entries = await deps.audit.ofSession(session.id, session.issuedAt - TIMELINE_SLACK_MS);
      return { session: sessionView(session), timeline: entries.map(auditView), channels: channelsOf(entries) };
    },
  );

  r.post(
    '/v1/sessions/:id/revoke',
    guarded(
      'admin',
      {
        tags,
        summary: 'End a session now (reason revoked): the relay drops the appliance and every engineer channel',
        params: sessionIdParams,
        response: { 200: sessionAnswer, ...errorAnswers(404, 409) },
      },
      { action: 'revoke sessions' },
    ),
    async (request) => {
      const { id } = request.params;
      await deps.sessions.close(id, 'revoked', request.operator.name, deps.now());
      await deps.replicated?.();
      return { session: sessionView(await deps.sessions.require(id)) };
    },
  );

  r.post(
    '/v1/sessions/:id/extend',
    guarded(
      'admin',
      {
        tags,
        summary: 'Move the expiry: the new life counts from now, at most 12 weeks after issue',
        params: sessionIdParams,
        body: z.object({ ttl: z.string().min(2).max(16).describe('90s, 2h, 7d, 12w') }),
        response: { 200: sessionAnswer, ...errorAnswers(404, 409) },
      },
      { action: 'extend sessions' },
    ),
    async (request) => {
      const extended = await extendSession(deps.sessions, { id: request.params.id, ttlMs: parseDuration(request.body.ttl), actor: request.operator.name, now: deps.now() });
      await deps.replicated?.();
      return { session: sessionView(extended) };
    },
  );
}
