// tunnel-monitor: the repeatable sweep that marks CONNECTED sessions whose last heartbeat is older
// than the grace period LOST. It reads only the stale end of the heartbeat index, so a sweep costs
// in proportion to the stale sessions, not to all of them.
import type { Worker } from 'bullmq';
import { JOB } from '../queues/queue-names.js';
import { describeError, isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export interface TunnelMonitorDeps {
  sessions: SessionStore;
  now: () => number;
  logger: Logger;
  /** TETHER_LOST_GRACE_MS */
  graceMs: number;
  batch?: number;
}

export interface SweepReport {
  stale: number;
  lost: number;
}

export async function sweepStaleTunnels(deps: TunnelMonitorDeps): Promise<SweepReport> {
  const now = deps.now();
  const batch = deps.batch ?? 500;
  const seen = new Set<string>();
  let lost = 0;
  for (;;) {
    const ids = (await deps.sessions.stale(now - deps.graceMs, batch)).filter((id) => !seen.has(id));
    // A session that could not be marked stays in the index; seeing only those again ends the sweep.
    if (ids.length === 0) break;
    for (const id of ids) {
      seen.add(id);
      try {
        await deps.sessions.apply(id, 'lose', { actor: 'monitor', now });
        lost++;
      } catch (err) {
        if (!isAppError(err, 'illegal_transition') && !isAppError(err, 'session_closed') && !isAppError(err, 'session_not_found')) throw err;
        deps.logger.debug({ sid: id, err: describeError(err) }, 'stale heartbeat entry left alone');
      }
    }
    if (ids.length < batch) break;
  }
  if (lost) deps.logger.info({ stale: seen.size, lost }, 'tunnel sweep marked sessions lost');
  return { stale: seen.size, lost };
}

export function createTunnelMonitorWorker(deps: TunnelMonitorDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.monitorSweep, () => sweepStaleTunnels(deps), { ...rt, concurrency: 1 });
}
