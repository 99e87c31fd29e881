// OpenAPI descriptions of the routes that cannot validate through a route schema because their
// signatures cover the raw bytes (help-desk webhooks, the signed appliance API) or that predate the
// zod routes (/healthz). Built from the same zod schemas those routes parse with; used only to write
// the spec, never to validate.
import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import { APPLIANCE_PATHS, SIGNATURE_HEADERS, enrolRequestSchema, enrolResponseSchema, inboxResponseSchema, tetherRequestSchema, tetherResponseSchema, versionReportSchema } from '../shared/protocol.js';
import { genericWebhookSchema } from '../ticketing/generic-webhook.schema.js';
import { VENDOR_SYSTEMS } from '../ticketing/help-desks.js';
import { OPERATOR_SECURITY, errorBody } from './operator-route.js';

type Doc = FastifySchema & { tags: string[]; summary: string; description?: string };

const webhookAnswer = z.object({ status: z.enum(['queued', 'duplicate', 'ignored']), id: z.string().optional(), reason: z.string().optional() });
const genericSignature = z.object({
  'x-tether-timestamp': z.string().describe('unix seconds; more than 5 minutes off is refused'),
  'x-tether-signature': z.string().describe('sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with TETHER_WEBHOOK_SECRET>'),
});
const applianceSignature = z.object({
  [SIGNATURE_HEADERS.timestamp]: z.string(),
  [SIGNATURE_HEADERS.nonce]: z.string(),
  [SIGNATURE_HEADERS.signature]: z.string().describe('Ed25519 over method, path, timestamp, nonce and body digest (docs/one-click.md)'),
});
const serialParams = z.object({ serial: z.string() });
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, errorBody]));
const webhookTags = ['help-desk webhooks'];
/** A route of the signed appliance API: every one carries the signature headers. */
const applianceDoc = (summary: string, doc: Omit<Doc, 'tags' | 'summary' | 'headers'>): Doc => ({ tags: ['appliance API (signed)'], summary, headers: applianceSignature, ...doc });

/** By `METHOD url` as Fastify registers it. */
export const RAW_ROUTE_DOCS: Record<string, Doc> = {
  'GET /metrics': {
    tags: ['metrics'],
    summary: "Prometheus text: this process's tether_* and process metrics (no credential: bind the api to a private network)",
    response: { 200: { description: 'text/plain; version=0.0.4', content: { 'text/plain': { schema: z.string() } } } },
  },
  'GET /v1/events': {
    tags: ['sessions'],
    summary: 'Session transitions as Server-Sent Events: one `event: session` per transition ({sid, serial, from, to, outcome, reason, at})',
    description: 'Role: viewer or higher.',
    security: OPERATOR_SECURITY,
    response: { 200: { description: 'an endless event stream', content: { 'text/event-stream': { schema: z.string() } } }, ...errors(401, 403) },
  },
  'GET /healthz': { tags: ['health'], summary: '200 when Redis answers a PING within a second, else 503', response: { 200: z.object({ status: z.literal('ok') }), ...errors(503) } },
  'POST /v1/webhooks/generic': {
    tags: webhookTags,
    summary: 'Ticket events of the generic help desk (HMAC-signed)',
    description: '202 queued, 200 duplicate (a repeated id), 400 invalid body, 401 bad or missing signature or stale timestamp, 413 too large.',
    headers: genericSignature,
    body: genericWebhookSchema,
    response: { 202: webhookAnswer, 200: webhookAnswer, ...errors(400, 401, 413) },
  },
  'POST /v1/webhooks/:vendor': {
    tags: webhookTags,
    summary: `Ticket events of a vendor help desk: ${VENDOR_SYSTEMS.join(', ')} (docs/help-desks.md)`,
    description: "Each vendor's own signature scheme and payload; 200 also for deliveries that are none of ours (ignored).",
    params: z.object({ vendor: z.enum(VENDOR_SYSTEMS) }),
    response: { 202: webhookAnswer, 200: webhookAnswer, ...errors(400, 401, 404, 413) },
  },
  [`POST ${APPLIANCE_PATHS.enroll}`]: applianceDoc('An appliance registers its identity with a single-use enrolment token', {
    body: enrolRequestSchema,
    response: { 201: enrolResponseSchema, ...errors(400, 401) },
  }),
  [`GET ${APPLIANCE_PATHS.inbox(':serial')}`]: applianceDoc('Keys pushed to an enrolled appliance, waiting for the customer', {
    params: serialParams,
    response: { 200: inboxResponseSchema, ...errors(401, 404) },
  }),
  [`PUT ${APPLIANCE_PATHS.version(':serial')}`]: applianceDoc('An enrolled appliance reports its version', {
    params: serialParams,
    body: versionReportSchema,
    response: { 200: z.object({ serial: z.string(), product: z.string(), version: z.string() }), ...errors(400, 401, 404) },
  }),
  [`POST ${APPLIANCE_PATHS.tether(':serial')}`]: applianceDoc('One-click: an enrolled appliance (SMA 10.2+, SDA 6.1+) asks for its own tether', {
    params: serialParams,
    body: tetherRequestSchema,
    response: { 201: tetherResponseSchema, ...errors(400, 401, 404, 422, 503) },
  }),
};
