// Route options every operator route shares: the role guard (requireRole) and the OpenAPI facts that
// go with it (security schemes, the role in the description, the error answers), so a route states
// its role once and the spec cannot disagree with the guard.
import type { FastifySchema } from 'fastify';
import { errorBodySchema } from '../shared/protocol.js';
import type { OperatorRole } from '../shared/operator-role.js';
import { requireRole, type RoleOptions } from './operator-auth.js';

/** The OpenAPI security requirement of operator routes: either scheme will do. */
export const OPERATOR_SECURITY: { [scheme: string]: string[] }[] = [{ bearerToken: [] }, { consoleCookie: [] }];

export const errorBody = errorBodySchema.meta({ id: 'Error' });

/** Error answers every guarded route may give, plus the route's own. */
export function errorAnswers(...statuses: number[]): Record<number, typeof errorBody> {
  return Object.fromEntries([400, 401, 403, ...statuses].map((s) => [s, errorBody]));
}

interface DocumentedSchema extends FastifySchema {
  summary?: string;
  description?: string;
  tags?: string[];
}

/** `{ preHandler: requireRole(role), schema }` with the role and security in the spec. */
export function guarded<S extends DocumentedSchema>(role: OperatorRole, schema: S, opts: RoleOptions = {}) {
  return {
    preHandler: requireRole(role, opts),
    schema: {
      ...schema,
      security: OPERATOR_SECURITY,
      description: `${schema.description ? `${schema.description} ` : ''}Role: ${role} or higher.`,
    },
  };
}
