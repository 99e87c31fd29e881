// POST /v1/webhooks/:vendor: ticket events from the configured vendor help desks (the adapters built
// from the registry, ticketing/help-desks.ts), and the flow every webhook route shares. Order of checks: size
// (Fastify, before reading), the vendor's signature over the raw bytes, body mapping, then
// delivery-id dedupe (SET NX with a TTL; an id noted but never queued is queued on the retry) and queueing. 202 queued, 200 duplicate or ignored (a
// ticket that is none of ours: the help desk must neither retry nor count a failure), 400, 401, 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { pipelineKeys } from '../shared/store/redis-keys.js';
import type { Producers } from '../queues/producers.js';
import type { WebhookMeter, WebhookResult } from '../shared/metrics.js';
import { GENERIC_SYSTEM } from '../ticketing/generic-webhook.schema.js';
import type { TicketEvent } from '../queues/ticket-event.schema.js';
import type { TicketAdapter, TicketAdapters } from '../ticketing/ticket-adapter.js';
import { HttpError } from './http-error.js';

export interface WebhookFlowDeps {
  redis: Redis;
  redisPrefix: string;
  producers: Producers;
  now: () => number;
  bodyLimit: number;
  /** How long a delivery id is remembered (seconds), unless the adapter says otherwise. */
  dedupeTtlS: number;
  /** Counts each delivery by system and result; none when absent. */
  metrics?: WebhookMeter | undefined;
}

export interface VendorWebhookRouteDeps extends WebhookFlowDeps {
  adapters: TicketAdapters;
}

/** The signature covers the exact bytes: no JSON parser may run before the check. */
export function acceptRawBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
}

export async function acceptWebhook(adapter: TicketAdapter, request: FastifyRequest, reply: FastifyReply, deps: WebhookFlowDeps): Promise<FastifyReply> {
  const system = adapter.system;
  const count = (result: WebhookResult) => deps.metrics?.webhookDelivery(system, result);
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const verdict = adapter.verify({ headers: request.headers, rawBody, receivedAt: deps.now() });
  if (!verdict.ok) {
    request.log.warn({ system, reason: verdict.reason }, 'webhook refused');
    count('bad_signature');
    throw new HttpError(401, 'unauthorized', verdict.reason);
  }
  const parsed = adapter.parse(rawBody, request.headers);
  if (!parsed.ok && parsed.ignore) {
    request.log.info({ system, reason: parsed.reason }, 'webhook ignored');
    count('ignored');
    if (parsed.tell) {
      // One comment per delivery: the job id is the delivery's, so a retried delivery adds nothing.
      const { ticket, comment, deliveryId } = parsed.tell;
      await deps.producers.ticketComment(ticket, comment, `tell-${system}-${deliveryId.replace(/[^\w-]/g, '_').slice(0, 100)}`);
    }
    return reply.code(200).send({ status: 'ignored', reason: parsed.reason });
  }
  if (!parsed.ok) {
    request.log.warn({ system, reason: parsed.reason }, 'webhook refused');
    count('invalid_body');
    throw new HttpError(400, 'invalid_body', parsed.reason);
  }
  const event = parsed.event;
  const dedupeKey = pipelineKeys(deps.redisPrefix).webhookDelivery(system, event.deliveryId);
  const now = deps.now();
  let acceptedAt: number | undefined = now;
  const first = await deps.redis.set(dedupeKey, String(now), 'EX', adapter.dedupeTtlS ?? deps.dedupeTtlS, 'NX');
  if (first !== 'OK') acceptedAt = await lostAcceptance(adapter, event, dedupeKey, now, deps);
  if (acceptedAt === undefined) {
    request.log.info({ system, delivery: event.deliveryId }, 'webhook duplicate');
    count('duplicate');
    return reply.code(200).send({ status: 'duplicate', id: event.deliveryId });
  }
  if (acceptedAt !== now) request.log.warn({ system, delivery: event.deliveryId, acceptedAt }, 'webhook accepted earlier but never queued: queueing it now');
  try {
    await deps.producers.ticketEvent(event, { window: acceptanceWindow(adapter, acceptedAt) });
  } catch (err) {
    // Not queued: forget the id so the help desk's retry is not taken for a duplicate.
    await deps.redis.del(dedupeKey).catch(() => undefined);
    count('error');
    throw err;
  }
  // Noted as queued: however old, this note now means a duplicate (finished jobs do not live long
  // enough under load to be the proof: at most 50,000 are kept).
  await deps.redis.set(dedupeKey, `${QUEUED}${acceptedAt}`, 'KEEPTTL', 'XX');
  request.log.info({ ticket: event.ticket, kind: event.kind, delivery: event.deliveryId }, 'ticket event queued');
  count('accepted');
  return reply.code(202).send({ status: 'queued', id: event.deliveryId });
}

/**
 * An adapter's own dedupe TTL is shorter than finished jobs are kept (a week): the same id accepted
 * again after it expired would get the id of a kept job and be dropped. Two acceptances of one id
 * are at least the TTL apart, so the acceptance window tells them apart; retries within the TTL are
 * caught by the dedupe key.
 */
function acceptanceWindow(adapter: TicketAdapter, acceptedAt: number): number | undefined {
  return adapter.dedupeTtlS === undefined ? undefined : Math.floor(acceptedAt / 1000 / adapter.dedupeTtlS);
}

/** A delivery noted as accepted (not as queued) this long ago whose job is not in the queue was never queued. */
const LOST_AFTER_MS = 30_000;
/** The dedupe note once the event is queued: `q<acceptedAt>`; before, just `<acceptedAt>`. */
const QUEUED = 'q';

/**
 * The dedupe key says the delivery was accepted before. Usually that is a duplicate (undefined). But
 * the key is written before the event is queued: an API that died in between left the key, not
 * marked as queued, and no job; the help desk's retry must not be taken for a duplicate then. When
 * the unmarked key is older than LOST_AFTER_MS (a process still queueing it is not) and no job has
 * the event's id, the first acceptance's time is returned, to queue it under the id it would have had.
 */
async function lostAcceptance(adapter: TicketAdapter, event: TicketEvent, dedupeKey: string, now: number, deps: WebhookFlowDeps): Promise<number | undefined> {
  const noted = await deps.redis.get(dedupeKey);
  const at = noted === null || noted.startsWith(QUEUED) ? NaN : Number(noted);
  if (!Number.isFinite(at) || now - at < LOST_AFTER_MS) return undefined;
  return (await deps.producers.hasTicketEvent(event, { window: acceptanceWindow(adapter, at) })) ? undefined : at;
}

export async function vendorWebhookRoute(app: FastifyInstance, deps: VendorWebhookRouteDeps): Promise<void> {
  acceptRawBodies(app, deps.bodyLimit);
  app.post<{ Params: { vendor: string } }>('/v1/webhooks/:vendor', { bodyLimit: deps.bodyLimit }, async (request, reply) => {
    const vendor = request.params.vendor;
    // The generic help desk has its own static route; this one serves the vendors only.
    const adapter = vendor === GENERIC_SYSTEM ? undefined : deps.adapters.get(vendor);
    if (!adapter) {
      deps.metrics?.webhookDelivery('unknown', 'unknown_system'); // never the path's text: labels stay bounded
      throw new HttpError(404, 'not_found', `no help desk "${vendor.slice(0, 32)}" is configured`);
    }
    return acceptWebhook(adapter, request, reply, deps);
  });
}
