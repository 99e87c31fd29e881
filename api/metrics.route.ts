// GET /metrics: this process's registry in the Prometheus text format (default process metrics and
// every tether_* metric its roles report). No credential by design (docs/operator-api.md): bind the
// api to a private network or front it. Scrapes are not request-logged.
import type { FastifyInstance } from 'fastify';
import type { TetherMetrics } from '../shared/metrics.js';

export async function metricsRoute(app: FastifyInstance, deps: { metrics: Pick<TetherMetrics, 'scrape'> }): Promise<void> {
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const { contentType, body } = await deps.metrics.scrape();
    return reply.type(contentType).send(body);
  });
}
