// What the pipeline harness and the ticketing harness both build on: the server environment of a
// test (its TETHER_HOME, Redis prefix and SMTP capture), the API on 127.0.0.1:0, and the workers
// in-process with the test relay endpoint and retry and bridge timings short enough that a test
// waits a fraction of a second (each test may shorten more).
import type { FastifyInstance } from 'fastify';
import { startWorkers, type PipelineTuning, type RunningWorkers, type StartWorkersDeps } from '../../../workers/start-workers.js';
import { RELAY } from './relay-endpoint.js';

export function testServerEnv(at: { home: string; redisUrl: string; prefix: string; smtpUrl: string }): Record<string, string> {
  return {
    TETHER_HOME: at.home,
    REDIS_URL: at.redisUrl,
    TETHER_REDIS_PREFIX: at.prefix,
    SMTP_URL: at.smtpUrl,
    TETHER_MAIL_FROM: 'Tether <tether@vendor.example>',
  };
}

/** Listens on 127.0.0.1 (any port); resolves to the API's base URL. */
export async function listenApi(api: FastifyInstance): Promise<string> {
  await api.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}

export function startTestWorkers(deps: Omit<StartWorkersDeps, 'relay' | 'tuning'>, tuning?: PipelineTuning): Promise<RunningWorkers> {
  return startWorkers({ ...deps, relay: RELAY, tuning: { retry: { backoffMs: 200 }, bridgeBlockMs: 500, bridgeClaimIdleMs: 2_000, ...tuning } });
}
