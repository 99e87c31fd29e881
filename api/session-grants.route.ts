// Who may reach one session (TETHER_ENGINEER_POLICY=assigned): list, grant and withdraw engineers.
// Changes are admin-only and audited with the operator's name; a withdrawn grant closes the
// engineer's open channels to the session on every relay.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import type { AccessStore, EngineerPolicy } from '../shared/store/access.store.js';
import { engineerNameSchema, type EngineerDirectory } from '../shared/store/engineer.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { errorAnswers, guarded } from './operator-route.js';
import { sessionIdParams } from './sessions.route.js';

export interface SessionGrantsRouteDeps {
  sessions: SessionStore;
  engineers: EngineerDirectory;
  access: AccessStore;
  policy: EngineerPolicy;
  now: () => number;
}

const tags = ['sessions'];
const grantsView = z.object({
  policy: z.enum(['assigned', 'all']),
  assignee: z.string().nullable(),
  grants: z.array(z.object({ engineer: z.string(), by: z.string(), at: z.string() })),
});

export async function sessionGrantsRoute(app: FastifyInstance, deps: SessionGrantsRouteDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  const view = async (id: string) => {
    const s = await deps.sessions.require(id);
    const [grants, assignee] = await Promise.all([deps.access.grants(s.id), s.ticket ? deps.access.assignee(s.ticket) : Promise.resolve(null)]);
    return { policy: deps.policy, assignee, grants: grants.map((g) => ({ engineer: g.engineer, by: g.by, at: new Date(g.at).toISOString() })) };
  };

  r.get(
    '/v1/sessions/:id/grants',
    guarded('viewer', { tags, summary: 'Who may reach this session: the policy, the ticket assignee and the explicit grants', params: sessionIdParams, response: { 200: grantsView, ...errorAnswers(404) } }),
    async (request) => view(request.params.id),
  );

  r.post(
    '/v1/sessions/:id/grants',
    guarded(
      'admin',
      { tags, summary: 'Let a registered engineer reach this session (audited session.granted)', params: sessionIdParams, body: z.object({ engineer: engineerNameSchema }), response: { 200: grantsView, ...errorAnswers(404, 409) } },
      { action: 'grant sessions' },
    ),
    async (request) => {
      const s = await deps.sessions.require(request.params.id);
      if (s.state === 'CLOSED') throw new AppError('session_closed', `session ${s.id} is closed`);
      if (!(await deps.engineers.get(request.body.engineer))) throw new AppError('engineer_not_found', `no engineer named ${request.body.engineer}`);
      await deps.access.grant(s, request.body.engineer, request.operator.name, deps.now());
      return view(s.id);
    },
  );

  r.delete(
    '/v1/sessions/:id/grants/:engineer',
    guarded(
      'admin',
      {
        tags,
        summary: "Withdraw a grant; the engineer's open channels to this session close (audited session.grant_revoked)",
        params: sessionIdParams.extend({ engineer: engineerNameSchema }),
        response: { 200: grantsView, ...errorAnswers(404) },
      },
      { action: 'grant sessions' },
    ),
    async (request) => {
      const s = await deps.sessions.require(request.params.id);
      if (!(await deps.access.revokeGrant(s, request.params.engineer, request.operator.name, deps.now()))) {
        throw new AppError('engineer_not_found', `engineer ${request.params.engineer} holds no grant on session ${s.id}`);
      }
      return view(s.id);
    },
  );
}
