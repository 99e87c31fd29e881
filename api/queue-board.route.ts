// Bull Board at /admin/queues over every pipeline queue (the producers' Queue objects, so the same
// key prefix), for admins only, and read-only but for retries: adding, editing, cleaning, pausing or
// obliterating jobs through it would bypass the producers' schemas and the audit (a job's `actor` is
// whatever the board is sent). A retry runs the job as it was and is audited with the operator's
// name. The board's own UI cannot send X-CSRF-Token: a retry made with the console cookie passes the
// CSRF check by `Sec-Fetch-Site: same-origin` instead.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Producers } from '../queues/producers.js';
import { QUEUE_NAMES } from '../queues/queue-names.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import { replyWithError } from './error-handler.js';
import { HttpError } from './http-error.js';
import { requireRole } from './operator-auth.js';
import { allowInlineStyles } from './security-headers.js';

export const QUEUE_BOARD_PATH = '/admin/queues';

export interface QueueBoardDeps {
  producers: Producers;
  audit: AuditLog;
  now: () => number;
}

const READS = new Set(['GET', 'HEAD']);
/** The board's two retry calls: every failed job of a queue, or one job. */
const RETRY_FAILED = /^\/api\/queues\/([^/]+)\/retry\/failed$/;
const RETRY_JOB = /^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/;

/** The retry a board call asks for, or null for any other change. */
function retryOf(request: FastifyRequest): { queue: string; job: string } | null {
  const path = request.url.split('?')[0]!.slice(QUEUE_BOARD_PATH.length);
  const all = RETRY_FAILED.exec(path);
  if (all) return { queue: decodeURIComponent(all[1]!), job: '*failed' };
  const one = RETRY_JOB.exec(path);
  return one ? { queue: decodeURIComponent(one[1]!), job: decodeURIComponent(one[2]!) } : null;
}

/** The board would also run a completed job again; only failed ones may be. */
async function isFailed(producers: Producers, retry: { queue: string; job: string }): Promise<boolean> {
  const name = QUEUE_NAMES.find((q) => q === retry.queue);
  if (!name) return false;
  if (retry.job === '*failed') return true;
  const job = await producers.queue(name).getJob(retry.job);
  return job ? (await job.getState()) === 'failed' : false;
}

export async function queueBoardRoute(app: FastifyInstance, deps: QueueBoardDeps): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(deps.producers.queue(name))),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Tether queues' } },
  });
  const guard = requireRole('admin', { action: 'see the queue board', sameOriginProof: true });
  // The board sets its own error handler for its routes: refusals are answered here, in the contract's shape.
  app.addHook('onRequest', async function (request, reply) {
    try {
      await guard.call(this, request, reply);
      if (READS.has(request.method)) return;
      const retry = retryOf(request);
      if (!retry || !(await isFailed(deps.producers, retry))) throw new HttpError(403, 'forbidden', 'the queue board is read-only: it only retries failed jobs');
      // Written before the retry: no retry goes unaudited.
      await deps.audit.append('queue.retried', { queue: retry.queue, job: retry.job, actor: request.operator.name }, deps.now());
    } catch (err) {
      return replyWithError(err as Error, request, reply);
    }
  });
  app.addHook('onRoute', allowInlineStyles);
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
}
