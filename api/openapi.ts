// OpenAPI 3.1 at /openapi.json and Swagger UI at /docs, generated from the zod schemas the routes
// validate with (@fastify/swagger + fastify-type-provider-zod). Raw-body routes are described from
// their parse schemas (openapi-docs.ts). Every route is also recorded as it is registered, so a test
// can prove none is missing from the spec. Must be set up before any route is registered.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { RAW_ROUTE_DOCS } from './openapi-docs.js';
import { allowInlineStyles } from './security-headers.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

export interface RegisteredRoute {
  method: string;
  url: string;
  /** `schema.hide`: left out of the spec on purpose (UI assets, the spec itself). */
  hidden: boolean;
}

const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route registered on `app` since registerOpenApi, in order. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

/** Fastify's `/v1/sessions/:id` as OpenAPI writes it: `/v1/sessions/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export async function registerOpenApi(app: FastifyInstance, info: { version: string }): Promise<void> {
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (r) => {
    const hidden = Boolean((r.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of [r.method].flat()) routes.push({ method, url: r.url ?? r.path, hidden });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tether orchestrator API',
        version: info.version,
        description: 'Operator API (docs/operator-api.md), help-desk webhooks and the signed appliance API.',
      },
      components: {
        securitySchemes: {
          bearerToken: { type: 'http', scheme: 'bearer', description: 'a personal operator token, or TETHER_ADMIN_TOKEN' },
          consoleCookie: { type: 'apiKey', in: 'cookie', name: 'tether_session', description: 'console session; changes also need X-CSRF-Token' },
        },
      },
    },
    transform: (doc) => {
      const method = [doc.route.method].flat()[0];
      const raw = doc.schema ? undefined : RAW_ROUTE_DOCS[`${method} ${doc.url}`];
      return jsonSchemaTransform({ ...doc, schema: raw ?? doc.schema });
    },
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(async (docs) => {
    docs.addHook('onRoute', allowInlineStyles);
    await docs.register(swaggerUi, { routePrefix: DOCS_PATH });
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
