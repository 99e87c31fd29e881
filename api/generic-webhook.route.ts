// POST /v1/webhooks/generic: the generic help desk's signed ticket events, through the flow every
// webhook shares (vendor-webhook.route.ts): size, signature and replay window over the raw bytes,
// body schema, delivery-id dedupe, queueing. 202 queued, 200 duplicate.
import type { FastifyInstance } from 'fastify';
import type { TicketAdapter } from '../ticketing/ticket-adapter.js';
import { acceptRawBodies, acceptWebhook, type WebhookFlowDeps } from './vendor-webhook.route.js';

export interface WebhookRouteDeps extends WebhookFlowDeps {
  adapter: TicketAdapter;
}

export async function genericWebhookRoute(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  acceptRawBodies(app, deps.bodyLimit);
  app.post('/v1/webhooks/generic', { bodyLimit: deps.bodyLimit }, (request, reply) => acceptWebhook(deps.adapter, request, reply, deps));
}
