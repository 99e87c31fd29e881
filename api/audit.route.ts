// GET /v1/audit: the audit stream, newest first, filtered by type, session, serial and actor, paged
// by stream id. A page scans a bounded stretch of the stream, so a rare filter can return a short
// page with a cursor; `nextCursor` is null only when nothing older is left.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditEntry, AuditLog } from '../shared/store/audit.store.js';
import { errorAnswers, guarded } from './operator-route.js';
import { auditView, auditViewSchema, nextCursorSchema, pageQuery } from './operator-views.js';

export interface AuditRouteDeps {
  audit: AuditLog;
}

const auditQuery = z.object({
  type: z.string().min(1).max(64).optional().describe('exact type, or a prefix ending in "." or "*" (session., engineer.*)'),
  sid: z.string().min(1).max(64).optional(),
  serial: z.string().min(1).max(64).optional().describe('exact, case-insensitive'),
  actor: z.string().min(1).max(200).optional(),
  limit: pageQuery.limit,
  cursor: z.string().regex(/^\d{1,16}-\d{1,16}$/, 'pass back the nextCursor of the previous page').optional(),
});

export function auditMatcher(q: z.infer<typeof auditQuery>): (e: AuditEntry) => boolean {
  const prefix = q.type && /[.*]$/.test(q.type) ? q.type.replace(/\*$/, '') : undefined;
  const serial = q.serial?.toUpperCase();
  return (e) =>
    (!q.type || (prefix !== undefined ? e.type.startsWith(prefix) : e.type === q.type)) &&
    (!q.sid || e.fields.sid === q.sid) &&
    (!serial || e.fields.serial?.toUpperCase() === serial) &&
    (!q.actor || e.fields.actor === q.actor);
}

export async function auditRoute(app: FastifyInstance, deps: AuditRouteDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/audit',
    guarded('viewer', {
      tags: ['audit'],
      summary: 'Audit entries, newest first, filtered and paged',
      querystring: auditQuery,
      response: { 200: z.object({ entries: z.array(auditViewSchema), nextCursor: nextCursorSchema }), ...errorAnswers() },
    }),
    async (request) => {
      const q = request.query;
      const page = await deps.audit.pageNewestFirst({ before: q.cursor, limit: q.limit, match: auditMatcher(q) });
      return { entries: page.entries.map(auditView), nextCursor: page.next };
    },
  );
}
