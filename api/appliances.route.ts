// Enrolled appliances and enrolment tokens in the operator API. A token is shown once (only its
// digest is stored) and its issue is audited with the operator as actor, as `tether appliance token`.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import { serialSchema } from '../shared/key/tether-key.schema.js';
import { MAX_TOKEN_TTL_MS, type ApplianceStore } from '../shared/store/appliance.store.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import { errorAnswers, guarded } from './operator-route.js';
import { nextCursorSchema, pageQuery } from './operator-views.js';
import { pageByName } from './page-by-name.js';

export interface AppliancesRouteDeps {
  appliances: ApplianceStore;
  audit: AuditLog;
  now: () => number;
}

const tags = ['appliances'];
const applianceViewSchema = z
  .object({ serial: z.string(), product: z.enum(['sma', 'sda']), version: z.string(), enrolledAt: z.string(), updatedAt: z.string() })
  .meta({ id: 'ApplianceView' });

export async function appliancesRoute(app: FastifyInstance, deps: AppliancesRouteDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/appliances',
    guarded('viewer', {
      tags,
      summary: 'Enrolled appliances, by serial',
      querystring: z.object(pageQuery),
      response: { 200: z.object({ appliances: z.array(applianceViewSchema), nextCursor: nextCursorSchema }), ...errorAnswers() },
    }),
    async (request) => {
      const page = pageByName(await deps.appliances.list(), request.query);
      const iso = (ms: number) => new Date(ms).toISOString();
      return {
        appliances: page.items.map((a) => ({ serial: a.serial, product: a.product, version: a.version, enrolledAt: iso(a.enrolledAt), updatedAt: iso(a.updatedAt) })),
        nextCursor: page.next,
      };
    },
  );

  r.post(
    '/v1/appliances/tokens',
    guarded(
      'admin',
      {
        tags,
        summary: 'A single-use enrolment token for `ktether enroll --api URL --token T` (shown once)',
        body: z.object({ serial: serialSchema, ttl: z.string().min(2).max(16).default('15m').describe(`at most ${formatDuration(MAX_TOKEN_TTL_MS)}`) }),
        response: { 201: z.object({ token: z.string(), expiresAt: z.string() }), ...errorAnswers() },
      },
      { action: 'enrol appliances' },
    ),
    async (request, reply) => {
      const { serial, ttl } = request.body;
      const ttlMs = parseDuration(ttl);
      if (ttlMs > MAX_TOKEN_TTL_MS) throw new AppError('usage', `ttl ${ttl} is too long: enrolment tokens live at most ${formatDuration(MAX_TOKEN_TTL_MS)}`);
      const { token, expiresAt } = await deps.appliances.issueToken(serial, ttlMs, deps.now());
      await deps.audit.append('appliance.token_issued', { serial, actor: request.operator.name, expiresAt }, deps.now());
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ token, expiresAt: new Date(expiresAt).toISOString() });
    },
  );
}
