// Bull Board at /admin/queues over every pipeline queue (the producers' Queue objects, so the same
// key prefix), for admins only. The board's own UI cannot send X-CSRF-Token: its changes (retry,
// clean) made with the console cookie pass the CSRF check by `Sec-Fetch-Site: same-origin` instead.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { Producers } from '../queues/producers.js';
import { QUEUE_NAMES } from '../queues/queue-names.js';
import { replyWithError } from './error-handler.js';
import { requireRole } from './operator-auth.js';
import { allowInlineStyles } from './security-headers.js';

export const QUEUE_BOARD_PATH = '/admin/queues';

export async function queueBoardRoute(app: FastifyInstance, deps: { producers: Producers }): Promise<void> {
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
    } catch (err) {
      return replyWithError(err as Error, request, reply);
    }
  });
  app.addHook('onRoute', allowInlineStyles);
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
}
