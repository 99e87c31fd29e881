// GET /healthz: answers 200 when Redis answers a PING within a second, else 503.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { HttpError } from './http-error.js';

export async function healthRoute(app: FastifyInstance, deps: { redis: Redis; timeoutMs?: number }): Promise<void> {
  app.get('/healthz', async () => {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), deps.timeoutMs ?? 1_000).unref());
    try {
      await Promise.race([deps.redis.ping(), timeout]);
    } catch {
      throw new HttpError(503, 'unavailable', 'redis is not answering');
    }
    return { status: 'ok' };
  });
}
