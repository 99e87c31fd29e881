// ticket-sync: posts comments to the ticket's help desk through its adapter, retried with backoff
// when the help desk is busy or down. For help desks with a burst window (the vendors), comments to
// one ticket within the window go out as one. A help desk with no comment endpoint configured is
// skipped with a warning rather than failing every job.
import type { Worker } from 'bullmq';
import type { JobData } from '../queues/job-schemas.js';
import { JOB } from '../queues/queue-names.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CommentBurst } from '../ticketing/comment-burst.js';
import type { TicketAdapters } from '../ticketing/ticket-adapter.js';
import { buildWorker, type JobContext, type WorkerRuntime } from './worker-kit.js';

export interface TicketSyncDeps {
  adapters: TicketAdapters;
  logger: Logger;
  /** Without it every comment is posted at once. */
  burst?: CommentBurst;
}

export async function processTicketComment(
  data: JobData<typeof JOB.ticketComment>,
  deps: TicketSyncDeps,
  ctx: JobContext = { jobId: '', attemptsMade: 0 },
): Promise<'posted' | 'skipped' | 'collapsed'> {
  const adapter = deps.adapters.get(data.ticket.system);
  if (!adapter) throw new AppError('usage', `no help-desk adapter for ticket system "${data.ticket.system}"`);
  if (!adapter.canComment) {
    deps.logger.warn({ ticket: data.ticket }, 'comment not posted: the help desk has no comment endpoint configured');
    return 'skipped';
  }
  const windowMs = adapter.commentBurstMs ?? 0;
  if (!deps.burst || windowMs <= 0 || !ctx.jobId) {
    await adapter.addComment(data.ticket, data.comment);
    deps.logger.info({ ticket: data.ticket, sid: data.sid }, 'ticket comment posted');
    return 'posted';
  }
  const outcome = await deps.burst.settle(data.ticket, ctx.jobId, data.comment, windowMs);
  if (!outcome.post) {
    deps.logger.info({ ticket: data.ticket, sid: data.sid }, 'ticket comment joined a burst another job posts');
    return 'collapsed';
  }
  await adapter.addComment(data.ticket, outcome.comment);
  await deps.burst.posted(data.ticket, ctx.jobId, data.comment.internal);
  deps.logger.info({ ticket: data.ticket, sid: data.sid, comments: outcome.count }, 'ticket comment posted');
  return 'posted';
}

export function createTicketSyncWorker(deps: TicketSyncDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.ticketComment, (data, ctx) => processTicketComment(data, deps, ctx), rt);
}
