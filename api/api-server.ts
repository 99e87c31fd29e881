// Builds the API's Fastify instance (no listen; the entry point does that): the help-desk webhooks
// (generic and vendors), the operator API, the signed appliance API, /healthz, and the central
// error handler. Producers are opened on the
// caller's Redis client and closed with the server; the client itself stays the caller's.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { Producers } from '../queues/producers.js';
import { replicaWait } from '../shared/redis-durability.js';
import type { ServerConfig } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { TetherMetrics } from '../shared/metrics.js';
import { RedisAuditLog } from '../shared/store/redis-audit.store.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import { createGenericAdapter } from '../ticketing/generic.adapter.js';
import { buildTicketAdapters } from '../ticketing/help-desks.js';
import type { TicketAdapter, TicketAdapters } from '../ticketing/ticket-adapter.js';
import { applianceApiRoute, type ApplianceApiDeps } from './appliance-api.route.js';
import { consoleSsoRoute } from './console-sso.route.js';
import { consoleRoute } from './console.route.js';
import { registerErrorHandling } from './error-handler.js';
import { eventsRoute } from './events.route.js';
import { genericWebhookRoute } from './generic-webhook.route.js';
import { healthRoute } from './health.route.js';
import { metricsRoute } from './metrics.route.js';
import { operatorApiRoute, prepareOperatorSurface } from './operator-api.js';
import { queueBoardRoute } from './queue-board.route.js';
import { RedactingLogController, serializeRequest } from './request-log.js';
import { vendorWebhookRoute } from './vendor-webhook.route.js';

export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
const DEDUPE_TTL_S = 7 * 86_400;

export interface ApiDeps {
  config: Readonly<ServerConfig>;
  /** A plain ioredis client (openRedis(url)); owned by the caller. */
  redis: Redis;
  /** Usually config.redisPrefix. */
  prefix: string;
  logger: Logger;
  now?: () => number;
  /** The generic help desk's adapter; default: the registry's, else built from config. */
  genericAdapter?: TicketAdapter;
  /** Help-desk adapters by system (POST /v1/webhooks/:vendor); default: built from config. */
  adapters?: TicketAdapters;
  bodyLimit?: number;
  /** Signing key and relay endpoint for one-click minting; without them one-click answers 503. */
  oneClick?: ApplianceApiDeps['oneClick'];
  /** The relay host key's public line (operator ssh-config; needs oneClick's relay endpoint too). */
  relayHostKeyLine?: string;
  /** The embedded SMTP capture's outbox (dev): GET /v1/outbox; without it those routes answer 404. */
  outboxDir?: string;
  /** This process's metrics: GET /metrics and webhook counts (none without it). */
  metrics?: TetherMetrics;
}

export async function buildApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const bodyLimit = deps.bodyLimit ?? WEBHOOK_BODY_LIMIT;
  // The caller's serializers win over Fastify's in its merge, so this `req` replaces the one that logs the full URL.
  const logger: FastifyBaseLogger = deps.logger.child({}, { serializers: { req: serializeRequest } });
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    bodyLimit,
    logController: new RedactingLogController({ disableRequestLogging: (req) => req.url === '/healthz' }),
  });
  // A 202 promises the event is queued: with replicas configured, on them too (survives a failover).
  const wait = deps.config.redisWait;
  const replicaWaitFn = wait?.replicas ? replicaWait({ ...wait, onShort: (acked) => deps.logger.warn({ acked, wanted: wait.replicas }, 'ticket event not on enough Redis replicas in time') }) : undefined;
  const producers = new Producers({ connection: deps.redis, prefix: deps.prefix, replicaWait: replicaWaitFn });
  const sessions = new RedisSessionStore(deps.redis, deps.prefix);
  const adapters = deps.adapters ?? buildTicketAdapters(deps.config, { now });
  const adapter =
    deps.genericAdapter ?? adapters.get('generic') ?? createGenericAdapter({ secret: deps.config.api.webhookSecret, commentUrl: deps.config.ticketCommentUrl, now });

  registerErrorHandling(app);
  // Before any route: zod validation and serialization, security headers, the OpenAPI recorder, who-is-asking.
  await prepareOperatorSurface(app, { redis: deps.redis, redisPrefix: deps.prefix, adminToken: deps.config.api.adminToken });
  app.addHook('onClose', async () => producers.close());
  await app.register(healthRoute, { redis: deps.redis });
  if (deps.metrics) await app.register(metricsRoute, { metrics: deps.metrics });
  // Plugin options named `prefix` would become a route prefix in Fastify: the Redis one is `redisPrefix`.
  await app.register(genericWebhookRoute, { adapter, redis: deps.redis, redisPrefix: deps.prefix, producers, now, bodyLimit, dedupeTtlS: DEDUPE_TTL_S, metrics: deps.metrics });
  await app.register(vendorWebhookRoute, { adapters, redis: deps.redis, redisPrefix: deps.prefix, producers, now, bodyLimit, dedupeTtlS: DEDUPE_TTL_S, metrics: deps.metrics });
  await app.register(operatorApiRoute, {
    config: deps.config,
    redis: deps.redis,
    redisPrefix: deps.prefix,
    sessions,
    producers,
    replicated: replicaWaitFn ? () => replicaWaitFn(deps.redis) : undefined,
    adapters,
    now,
    signing: deps.oneClick,
    relayHostKeyLine: deps.relayHostKeyLine,
    outboxDir: deps.outboxDir,
  });
  await app.register(queueBoardRoute, { producers, audit: new RedisAuditLog(deps.redis, deps.prefix), now });
  // One-click opens its tickets in TETHER_ONE_CLICK_HELP_DESK (default: the generic help desk).
  const oneClickAdapter = adapters.get(deps.config.ticketing.oneClickHelpDesk) ?? adapter;
  await app.register(applianceApiRoute, { config: deps.config, redis: deps.redis, redisPrefix: deps.prefix, sessions, producers, adapter: oneClickAdapter, now, oneClick: deps.oneClick });
  // The console (static files at /console) and its live feed (one Redis subscriber per process).
  await app.register(consoleRoute);
  // Console single sign-on (TETHER_OIDC_*): GET /v1/console/sso says whether it is configured.
  await app.register(consoleSsoRoute, { sso: deps.config.sso, publicUrl: deps.config.publicUrl, redis: deps.redis, redisPrefix: deps.prefix, audit: new RedisAuditLog(deps.redis, deps.prefix), now });
  await app.register(eventsRoute, { redis: deps.redis, redisPrefix: deps.prefix });
  return app;
}
