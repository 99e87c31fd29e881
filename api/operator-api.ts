// The operator API as two steps for buildApiServer: `prepareOperatorSurface` before any route (zod
// validation and serialization, security headers, the OpenAPI recorder, who-is-asking), then the
// route families as one plugin. Builds the stores it needs on the caller's Redis client.
import type { FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { RedisApplianceStore } from '../shared/store/redis-appliance.store.js';
import { RedisAuditLog } from '../shared/store/redis-audit.store.js';
import { ConsoleSessionStore } from '../shared/store/console-session.store.js';
import { CredentialStore, credentialSecretFrom } from '../shared/store/credential.store.js';
import { RedisEngineerDirectory } from '../shared/store/redis-engineer.store.js';
import { OperatorStore } from '../shared/store/operator.store.js';
import type { TicketAdapters } from '../ticketing/ticket-adapter.js';
import { ticketLinker } from '../ticketing/ticket-links.js';
import { appliancesRoute } from './appliances.route.js';
import { auditRoute } from './audit.route.js';
import { consoleSessionRoute } from './console-session.route.js';
import { engineersRoute } from './engineers.route.js';
import { helpDesksRoute } from './help-desks.route.js';
import { keysRoute } from './keys.route.js';
import { registerOpenApi } from './openapi.js';
import { installOperatorAuth } from './operator-auth.js';
import { operatorsRoute } from './operators.route.js';
import { outboxRoute } from './outbox.route.js';
import { registerSecurityHeaders } from './security-headers.js';
import { sessionAccessRoute } from './session-access.route.js';
import { sessionGrantsRoute } from './session-grants.route.js';
import { sessionsRoute } from './sessions.route.js';
import type { MintingKeys, SurfaceDeps } from './surface-deps.js';
import { AccessStore } from '../shared/store/access.store.js';

export const API_VERSION = '1.0';

export async function prepareOperatorSurface(app: FastifyInstance, deps: { redis: Redis; redisPrefix: string; adminToken: string | undefined }): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await registerSecurityHeaders(app);
  await registerOpenApi(app, { version: API_VERSION });
  await installOperatorAuth(app, {
    operators: new OperatorStore(deps.redis, deps.redisPrefix),
    consoleSessions: new ConsoleSessionStore(deps.redis, deps.redisPrefix),
    adminToken: deps.adminToken,
  });
}

export interface OperatorApiDeps extends SurfaceDeps {
  adapters: TicketAdapters;
  /** Signing key and relay endpoint: key issue and password custody; without them those routes answer 503. */
  signing?: MintingKeys | undefined;
  /** The relay host key's public line, for ssh-config (with `signing`'s relay endpoint). */
  relayHostKeyLine?: string | undefined;
  /** The embedded SMTP capture's outbox, when it runs (dev); otherwise the outbox routes answer 404. */
  outboxDir?: string | undefined;
  /** Console sign-in attempts per client address per minute (default 10). */
  signInPerMinute?: number | undefined;
  /** Waits until this connection's writes are on the Redis replicas (TETHER_REDIS_WAIT_REPLICAS); absent: no wait. */
  replicated?: (() => Promise<void>) | undefined;
}

export async function operatorApiRoute(app: FastifyInstance, deps: OperatorApiDeps): Promise<void> {
  const { redis, redisPrefix, now } = deps;
  const audit = new RedisAuditLog(redis, redisPrefix);
  const engineers = new RedisEngineerDirectory(redis, redisPrefix);
  const appliances = new RedisApplianceStore(redis, redisPrefix);
  const credentials = deps.signing && new CredentialStore(redis, redisPrefix, credentialSecretFrom(deps.signing.signingKey.privateKey));
  const relay = deps.signing && deps.relayHostKeyLine ? { ...deps.signing.relay, hostKeyLine: deps.relayHostKeyLine } : undefined;
  const ticketLink = ticketLinker(deps.config.ticketing);

  await app.register(consoleSessionRoute, { redis, redisPrefix, audit, now, ...(deps.signInPerMinute ? { signInPerMinute: deps.signInPerMinute } : {}) });
  await app.register(sessionsRoute, { redis, redisPrefix, sessions: deps.sessions, audit, now, ticketLink, replicated: deps.replicated });
  await app.register(sessionAccessRoute, { sessions: deps.sessions, audit, engineers, credentials, relay, now });
  await app.register(sessionGrantsRoute, { sessions: deps.sessions, engineers, access: new AccessStore(redis, redisPrefix), policy: deps.config.engineerPolicy, now });
  await app.register(keysRoute, {
    redis,
    redisPrefix,
    sessions: deps.sessions,
    appliances,
    producers: deps.producers,
    minting: deps.signing && credentials ? { ...deps.signing, credentials } : undefined,
    now,
    ticketLink,
  });
  await app.register(engineersRoute, { engineers, now });
  await app.register(operatorsRoute, { operators: new OperatorStore(redis, redisPrefix), now });
  await app.register(appliancesRoute, { appliances, audit, now });
  await app.register(auditRoute, { audit });
  await app.register(helpDesksRoute, { config: deps.config, adapters: deps.adapters, redis, redisPrefix, producers: deps.producers });
  await app.register(outboxRoute, { outboxDir: deps.outboxDir });
}
