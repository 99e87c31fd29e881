// The appliance API (enrolment, one-click, inbox, version report) as one Fastify plugin: its own
// content-type parser keeps the raw bytes, because signatures cover the exact body. Builds the
// stores it needs on the caller's Redis client.
import type { FastifyInstance } from 'fastify';
import { RedisApplianceStore } from '../shared/store/redis-appliance.store.js';
import { RedisAuditLog } from '../shared/store/redis-audit.store.js';
import { CredentialStore, credentialSecretFrom } from '../shared/store/credential.store.js';
import type { TicketAdapter } from '../ticketing/ticket-adapter.js';
import { applianceEnrollRoute } from './appliance-enroll.route.js';
import { applianceInboxRoute } from './appliance-inbox.route.js';
import { applianceTetherRoute } from './appliance-tether.route.js';
import type { MintingKeys, SurfaceDeps } from './surface-deps.js';

/** Appliance requests are small JSON documents. */
export const APPLIANCE_BODY_LIMIT = 64 * 1024;

export interface ApplianceApiDeps extends SurfaceDeps {
  /** The help desk one-click opens tickets in. */
  adapter: TicketAdapter;
  /** What minting needs; without it one-click answers 503 (enrolment and inbox still work). */
  oneClick?: MintingKeys | undefined;
}

export async function applianceApiRoute(app: FastifyInstance, deps: ApplianceApiDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: APPLIANCE_BODY_LIMIT }, (_req, body, done) => done(null, body));
  const appliances = new RedisApplianceStore(deps.redis, deps.redisPrefix);
  const audit = new RedisAuditLog(deps.redis, deps.redisPrefix);
  const mint = deps.oneClick && {
    ...deps.oneClick,
    credentials: new CredentialStore(deps.redis, deps.redisPrefix, credentialSecretFrom(deps.oneClick.signingKey.privateKey)),
  };
  const common = { appliances, audit, sessions: deps.sessions, now: deps.now };
  await app.register(applianceEnrollRoute, common);
  await app.register(applianceInboxRoute, common);
  await app.register(applianceTetherRoute, {
    ...common,
    producers: deps.producers,
    adapter: deps.adapter,
    ttlMs: deps.config.ticketKeyTtlMs,
    mint,
  });
}
