// POST /v1/keys: an admin mints a tether key through the same path as the CLI (shared/session/
// issue-key.ts): sealed and pushed for enrolled appliances, password into custody, mailed through
// the key-delivery queue when an address is given. The key is in this answer once and never again.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { handOverKeyForDelivery } from '../queues/key-handover.js';
import { keyTextSecretFrom, RedisKeyTextStore } from '../queues/redis-key-text.store.js';
import type { Producers } from '../queues/producers.js';
import { parseDuration } from '../shared/duration.js';
import type { SigningKey } from '../shared/key/key-files.js';
import { portSchema, productSchema, serialSchema } from '../shared/key/tether-key.schema.js';
import { issueKey, type KeyRelays } from '../shared/session/issue-key.js';
import { ticketRefSchema } from '../shared/session/session.schema.js';
import type { ApplianceStore } from '../shared/store/appliance.store.js';
import type { CredentialStore } from '../shared/store/credential.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { TicketLinker } from '../ticketing/ticket-links.js';
import { HttpError } from './http-error.js';
import { errorAnswers, guarded } from './operator-route.js';
import { apiSessionView, sessionViewSchema } from './operator-views.js';

export interface KeysRouteDeps {
  redis: Redis;
  redisPrefix: string;
  sessions: SessionStore;
  appliances: ApplianceStore;
  producers: Producers;
  /** What minting needs; absent: 503. */
  minting: { signingKey: SigningKey; relay: KeyRelays; credentials: CredentialStore } | undefined;
  now: () => number;
  /** The ticket's link in its help desk (ticketing/ticket-links.ts). */
  ticketLink: TicketLinker;
}

/** `SYSTEM:ID` as the CLI takes it, or `{system, id}`. */
const ticketInput = z.union([
  ticketRefSchema,
  z
    .string()
    .regex(/^[^:\s]{1,32}:\S{1,128}$/, 'use SYSTEM:ID, e.g. generic:4711')
    .transform((t) => ({ system: t.slice(0, t.indexOf(':')), id: t.slice(t.indexOf(':') + 1) })),
]);

const issueBody = z.object({
  serial: serialSchema,
  product: productSchema,
  version: z.string().min(1).max(32).optional(),
  ttl: z.string().min(2).max(16).default('7d').describe('90s, 2h, 7d, 12w (at most 12w)'),
  ports: z.array(portSchema).min(1).max(16).optional().describe('default: SMA 22,80,443,3306; SDA 22,80,443'),
  ticket: ticketInput.optional(),
  email: z.email().max(254).optional().describe('mail the key to this address (key-delivery queue)'),
  customerPassword: z.boolean().default(false).describe('the customer chooses the support password on the appliance'),
});

export async function keysRoute(app: FastifyInstance, deps: KeysRouteDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/keys',
    guarded(
      'admin',
      {
        tags: ['keys'],
        summary: 'Mint a tether key and its session; the key is shown once',
        body: issueBody,
        response: {
          201: z.object({ session: sessionViewSchema, key: z.string(), sealed: z.boolean(), pushed: z.boolean() }),
          ...errorAnswers(503),
        },
      },
      { action: 'issue keys' },
    ),
    async (request, reply) => {
      if (!deps.minting) throw new HttpError(503, 'unavailable', 'key issue is not available in this process: it needs the signing key and relay endpoint');
      const b = request.body;
      const issued = await issueKey(
        {
          serial: b.serial,
          product: b.product,
          version: b.version,
          ttlMs: parseDuration(b.ttl),
          ports: b.ports,
          ticket: b.ticket,
          email: b.email,
          passwordMode: b.customerPassword ? 'customer' : 'generated',
          actor: request.operator.name,
        },
        { sessions: deps.sessions, signingKey: deps.minting.signingKey, relay: deps.minting.relay, now: deps.now, appliances: deps.appliances, credentials: deps.minting.credentials },
      );
      if (b.email) {
        const keyTexts = new RedisKeyTextStore(deps.redis, deps.redisPrefix, keyTextSecretFrom(deps.minting.signingKey.privateKey));
        await handOverKeyForDelivery({ keyTexts, producers: deps.producers, now: deps.now }, issued);
      }
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ session: apiSessionView(issued.session, deps.ticketLink), key: issued.key, sealed: issued.sealed, pushed: issued.pushed });
    },
  );
}
