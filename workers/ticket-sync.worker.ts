// ticket-sync: posts one comment to the ticket's help desk through its adapter, retried with
// backoff when the help desk is busy or down. A help desk with no comment endpoint configured is
// skipped with a warning rather than failing every job.
import type { Worker } from 'bullmq';
import type { JobData } from '../queues/job-schemas.js';
import { JOB } from '../queues/queue-names.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { TicketAdapters } from '../ticketing/ticket-adapter.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export interface TicketSyncDeps {
  adapters: TicketAdapters;
  logger: Logger;
}

export async function processTicketComment(data: JobData<typeof JOB.ticketComment>, deps: TicketSyncDeps): Promise<'posted' | 'skipped'> {
  const adapter = deps.adapters.get(data.ticket.system);
  if (!adapter) throw new AppError('usage', `no help-desk adapter for ticket system "${data.ticket.system}"`);
  if (!adapter.canComment) {
    deps.logger.warn({ ticket: data.ticket }, 'comment not posted: the help desk has no comment endpoint configured');
    return 'skipped';
  }
  await adapter.addComment(data.ticket, data.comment);
  deps.logger.info({ ticket: data.ticket, sid: data.sid }, 'ticket comment posted');
  return 'posted';
}

export function createTicketSyncWorker(deps: TicketSyncDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.ticketComment, (data) => processTicketComment(data, deps), rt);
}
