// Sign-in attempts (token sign-ins, SSO starts) are limited per client address, counted in Redis so
// that every api process shares the count. Each route family registers the plugin under its own
// count and puts `signInRateLimit(perMinute)` in the config of the routes it limits.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { HttpError } from './http-error.js';

export async function registerSignInRateLimit(app: FastifyInstance, redis: Redis, nameSpace: string): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    redis,
    nameSpace,
    errorResponseBuilder: (_request, ctx) => new HttpError(429, 'rate_limited', `too many sign-in attempts: retry in ${ctx.after}`),
  });
}

/** A route's config: at most `perMinute` (default 10) attempts per client address a minute. */
export function signInRateLimit(perMinute = 10) {
  return { rateLimit: { max: perMinute, timeWindow: 60_000 } };
}
