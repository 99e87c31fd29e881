// Operators in the operator API (admins only): list, add (the personal token is in this answer once),
// remove (their token and console sign-ins stop working at once). Audited with the admin as actor.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { operatorRoleSchema } from '../shared/operator-role.js';
import { operatorNameSchema, type OperatorStore } from '../shared/store/operator.store.js';
import { errorAnswers, guarded } from './operator-route.js';
import { nextCursorSchema, pageQuery } from './operator-views.js';
import { pageByName } from './page-by-name.js';

export interface OperatorsRouteDeps {
  operators: OperatorStore;
  now: () => number;
}

const tags = ['operators'];
const action = { action: 'manage operators' };
const operatorInfoSchema = z.object({ name: z.string(), role: operatorRoleSchema, createdAt: z.string() }).meta({ id: 'OperatorInfo' });

export async function operatorsRoute(app: FastifyInstance, deps: OperatorsRouteDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/operators',
    guarded(
      'admin',
      {
        tags,
        summary: 'Operators and their roles, by name (never their tokens)',
        querystring: z.object(pageQuery),
        response: { 200: z.object({ operators: z.array(operatorInfoSchema), nextCursor: nextCursorSchema }), ...errorAnswers() },
      },
      action,
    ),
    async (request) => {
      const page = pageByName(await deps.operators.list(), request.query);
      return { operators: page.items.map((o) => ({ name: o.name, role: o.role, createdAt: new Date(o.createdAt).toISOString() })), nextCursor: page.next };
    },
  );

  r.post(
    '/v1/operators',
    guarded(
      'admin',
      {
        tags,
        summary: 'Add an operator; the answer holds their personal token, shown this once',
        body: z.object({ name: operatorNameSchema, role: operatorRoleSchema }),
        response: { 201: z.object({ name: z.string(), role: operatorRoleSchema, token: z.string() }), ...errorAnswers(409) },
      },
      action,
    ),
    async (request, reply) => {
      const { operator, token } = await deps.operators.add(request.body.name, request.body.role, request.operator.name, deps.now());
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ name: operator.name, role: operator.role, token });
    },
  );

  r.delete(
    '/v1/operators/:name',
    guarded(
      'admin',
      {
        tags,
        summary: 'Remove an operator: their token and console sign-ins stop working at once',
        params: z.object({ name: z.string().min(1).max(64) }),
        response: { 200: z.object({ removed: z.string() }), ...errorAnswers(404) },
      },
      action,
    ),
    async (request) => {
      const { name } = request.params;
      if (!(await deps.operators.remove(name, request.operator.name, deps.now()))) throw new AppError('operator_not_found', `no operator named ${name}`);
      return { removed: name };
    },
  );
}
