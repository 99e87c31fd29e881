// Security headers on every answer of the api (@fastify/helmet). The policy allows the console's own
// same-origin scripts, styles and images and nothing inline; `upgrade-insecure-requests` is off
// because the api may be served over plain HTTP on a private network. UIs we do not write (Swagger
// UI, Bull Board) get inline styles on their routes only.
import helmet from '@fastify/helmet';
import type { FastifyInstance, RouteOptions } from 'fastify';

const DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: null,
};

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: DIRECTIVES } });
}

/**
 * onRoute hook for a plugin that serves a third-party UI: same policy plus inline styles. Set on the
 * route's config, which @fastify/helmet reads per request.
 */
export function allowInlineStyles(route: RouteOptions): void {
  route.config = {
    ...(route.config ?? {}),
    helmet: { contentSecurityPolicy: { useDefaults: false, directives: { ...DIRECTIVES, styleSrc: ["'self'", "'unsafe-inline'"] } } },
  } as RouteOptions['config'];
}
