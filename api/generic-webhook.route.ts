// POST /v1/webhooks/generic: the generic help desk's signed ticket events. Order of checks: size
// (Fastify, before reading), signature and replay window over the raw bytes, body schema, then
// delivery-id dedupe (SET NX with a TTL) and queueing. 202 queued, 200 duplicate.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { pipelineKeys } from '../queues/pipeline-keys.js';
import type { Producers } from '../queues/producers.js';
import type { TicketAdapter } from '../ticketing/ticket-adapter.js';
import { HttpError } from './http-error.js';

export interface WebhookRouteDeps {
  adapter: TicketAdapter;
  redis: Redis;
  redisPrefix: string;
  producers: Producers;
  now: () => number;
  bodyLimit: number;
  /** How long a delivery id is remembered (seconds). */
  dedupeTtlS: number;
}

export async function genericWebhookRoute(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  const keys = pipelineKeys(deps.redisPrefix);
  // The signature covers the exact bytes: no JSON parser runs before the check.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, body, done) => done(null, body));

  app.post('/v1/webhooks/generic', { bodyLimit: deps.bodyLimit }, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verdict = deps.adapter.verify({ headers: request.headers, rawBody, receivedAt: deps.now() });
    if (!verdict.ok) throw new HttpError(401, 'unauthorized', verdict.reason);
    const parsed = deps.adapter.parse(rawBody);
    if (!parsed.ok) throw new HttpError(400, 'invalid_body', parsed.reason);
    const event = parsed.event;
    const dedupeKey = keys.webhookDelivery(deps.adapter.system, event.deliveryId);
    const first = await deps.redis.set(dedupeKey, String(deps.now()), 'EX', deps.dedupeTtlS, 'NX');
    if (first !== 'OK') return reply.code(200).send({ status: 'duplicate', id: event.deliveryId });
    try {
      await deps.producers.ticketEvent(event);
    } catch (err) {
      // Not queued: forget the id so the help desk's retry is not taken for a duplicate.
      await deps.redis.del(dedupeKey).catch(() => undefined);
      throw err;
    }
    request.log.info({ ticket: event.ticket, kind: event.kind, delivery: event.deliveryId }, 'ticket event queued');
    return reply.code(202).send({ status: 'queued', id: event.deliveryId });
  });
}
