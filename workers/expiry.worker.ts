// expiry: the delayed jobs of a session's life, one at a time. `warn` queues the expiring-soon mail
// and then the session's next expiry job (a later warning or the expiry); `expire` closes the
// session with reason `expired` at the deadline. A job planned for an expiry that has since moved
// (extension) or a session already closed does nothing.
import type { Worker } from 'bullmq';
import { jobIds } from '../queues/job-ids.js';
import type { JobData } from '../queues/job-schemas.js';
import type { Producers } from '../queues/producers.js';
import { JOB } from '../queues/queue-names.js';
import { isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { isMailAddress } from '../shared/mail/mail-address.js';
import type { WorkerMeter } from '../shared/metrics.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { nextExpiryStep, planExpiry } from './session-reactions.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export interface ExpiryDeps {
  sessions: SessionStore;
  producers: Producers;
  now: () => number;
  logger: Logger;
  /** TETHER_WARN_OFFSETS: a warning plans the next step from them. */
  warnOffsetsMs: readonly number[];
  /** Observes how late each teardown ran against the deadline; none when absent. */
  metrics?: Pick<WorkerMeter, 'expiryLateness'> | undefined;
}

export type ExpiryResult = 'warned' | 'expired' | 'stale' | 'gone' | 'no_recipient';

export async function processExpiry(data: JobData<typeof JOB.expiry>, deps: ExpiryDeps): Promise<ExpiryResult> {
  const s = await deps.sessions.get(data.sid);
  if (!s || s.state === 'CLOSED') return 'gone';
  if (s.expiresAt !== data.expiresAt) return 'stale';
  if (data.kind === 'warn') {
    const offset = data.offsetMs ?? 0;
    // The next step first: nothing about the mail may keep the session from expiring. Deterministic
    // ids: a retry after a crash here queues nothing twice.
    const now = deps.now();
    await deps.producers.scheduleExpiry(s, [nextExpiryStep(planExpiry(s, deps.warnOffsetsMs, now), { offsetMs: offset })], now);
    if (!s.email || !isMailAddress(s.email)) {
      if (s.email) deps.logger.warn({ sid: s.id }, 'expiry warning not mailed: the session holds no valid address');
      return 'no_recipient';
    }
    await deps.producers.notification(
      { template: 'expiring_soon', to: [s.email], sid: s.id, expiresAt: s.expiresAt, offsetMs: offset },
      jobIds.warnNotice(s.id, offset, s.expiresAt),
    );
    return 'warned';
  }
  try {
    // Only at the deadline this job was planned for: an extension landing since the read above wins.
    await deps.sessions.apply(s.id, 'close', { actor: 'expiry', reason: 'expired', now: deps.now(), serial: s.serial, expiresAt: s.expiresAt });
  } catch (err) {
    if (isAppError(err, 'session_closed')) return 'gone';
    if (isAppError(err, 'session_expiry_moved')) return 'stale';
    throw err;
  }
  const lateMs = deps.now() - s.expiresAt;
  deps.metrics?.expiryLateness(lateMs / 1000);
  deps.logger.info({ sid: s.id, lateMs }, 'session expired');
  return 'expired';
}

export function createExpiryWorker(deps: ExpiryDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.expiry, (data) => processExpiry(data, deps), rt);
}
