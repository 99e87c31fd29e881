// GET /v1/help-desks: per help desk, whether it is configured and which variables are missing, the
// newest delivery still remembered for deduplication (7 days) and the jobs of its tickets that failed
// for good and are still in the failed sets. Only what Redis already holds: null when unknown.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ticketCommentJobSchema, ticketEventJobSchema } from '../queues/job-schemas.js';
import { pipelineKeys } from '../shared/store/redis-keys.js';
import type { Producers } from '../queues/producers.js';
import { QUEUE } from '../queues/queue-names.js';
import type { ServerConfig } from '../shared/config.js';
import { helpDeskStatuses } from '../ticketing/help-desk-status.js';
import { GENERIC_SYSTEM } from '../ticketing/generic-webhook.schema.js';
import type { TicketAdapters } from '../ticketing/ticket-adapter.js';
import { errorAnswers, guarded } from './operator-route.js';

export interface HelpDesksRouteDeps {
  config: Readonly<ServerConfig>;
  adapters: TicketAdapters;
  redis: Redis;
  redisPrefix: string;
  producers: Producers;
}

const helpDeskSchema = z
  .object({
    system: z.string(),
    configured: z.boolean().describe('its webhooks are accepted'),
    comments: z.boolean().describe('comments are posted back to its tickets'),
    missing: z.array(z.string()).describe('variables to set for webhooks and comments'),
    lastDelivery: z.string().nullable().describe('newest accepted webhook delivery of the last 7 days'),
    failures: z.number().int().describe('jobs of its tickets that failed for good, still in the failed sets'),
    lastFailure: z.string().nullable(),
  })
  .meta({ id: 'HelpDeskStatus' });

/** Failed jobs read per queue; the failed sets are kept until an operator clears them. */
const FAILED_SCAN = 1_000;
const DELIVERY_SCAN = 50_000;

function configuration(config: Readonly<ServerConfig>): { system: string; configured: boolean; missing: string[] }[] {
  return helpDeskStatuses(config).map(({ system, configured, missing }) => ({ system, configured, missing }));
}

async function lastDeliveries(redis: Redis, redisPrefix: string, system: string): Promise<number | null> {
  let cursor = '0';
  let latest: number | null = null;
  let seen = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pipelineKeys(redisPrefix).webhookDeliveries(system), 'COUNT', 1000);
    cursor = next;
    seen += keys.length;
    if (keys.length === 0) continue;
    for (const v of await redis.mget(...keys)) {
      const at = Number(v);
      if (v && Number.isFinite(at) && (latest === null || at > latest)) latest = at;
    }
  } while (cursor !== '0' && seen < DELIVERY_SCAN);
  return latest;
}

async function failuresBySystem(producers: Producers): Promise<Map<string, { count: number; last: number }>> {
  const out = new Map<string, { count: number; last: number }>();
  const add = (system: string, at: number) => {
    const f = out.get(system) ?? { count: 0, last: 0 };
    out.set(system, { count: f.count + 1, last: Math.max(f.last, at) });
  };
  for (const job of await producers.queue(QUEUE.ticketSync).getFailed(0, FAILED_SCAN - 1)) {
    const data = ticketCommentJobSchema.safeParse(job?.data);
    if (data.success) add(data.data.ticket.system, job.finishedOn ?? 0);
  }
  for (const job of await producers.queue(QUEUE.ticketEvents).getFailed(0, FAILED_SCAN - 1)) {
    const data = ticketEventJobSchema.safeParse(job?.data);
    if (data.success) add(data.data.event.ticket.system, job.finishedOn ?? 0);
  }
  return out;
}

export async function helpDesksRoute(app: FastifyInstance, deps: HelpDesksRouteDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/help-desks',
    guarded('viewer', {
      tags: ['help desks'],
      summary: 'Help desks: configured or not, what is missing, last delivery, failures',
      response: { 200: z.object({ helpDesks: z.array(helpDeskSchema) }), ...errorAnswers() },
    }),
    async () => {
      const failures = await failuresBySystem(deps.producers);
      const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);
      const helpDesks = [];
      for (const desk of configuration(deps.config)) {
        const failed = failures.get(desk.system);
        helpDesks.push({
          ...desk,
          comments: deps.adapters.get(desk.system)?.canComment ?? false,
          lastDelivery: iso(await lastDeliveries(deps.redis, deps.redisPrefix, desk.system)),
          failures: failed?.count ?? 0,
          lastFailure: iso(failed?.last),
        });
      }
      return { helpDesks };
    },
  );
}
