// Starts the pipeline's workers and the audit bridge for an entry point (the lead's serve entry,
// or a test): opens its own Redis connections, wires the injected mailer, signing key and relay
// endpoint, and returns one idempotent close() that drains current jobs and closes everything.
import type { Worker } from 'bullmq';
import { jobIds } from '../queues/job-ids.js';
import { RedisClosedTickets } from '../queues/closed-ticket.store.js';
import { keyTextSecretFrom, RedisKeyTextStore } from '../queues/redis-key-text.store.js';
import type { RetryPolicy } from '../queues/job-options.js';
import { Producers } from '../queues/producers.js';
import { QUEUE, QUEUE_NAMES, type QueueName } from '../queues/queue-names.js';
import { SentMailStore } from '../queues/sent-mail.store.js';
import type { ServerConfig } from '../shared/config.js';
import { describeError } from '../shared/errors.js';
import type { SigningKey } from '../shared/key/key-files.js';
import type { Logger } from '../shared/logger.js';
import { addressOf, type Mailer } from '../shared/mail/mailer.js';
import { mailDomainOf } from '../shared/mail/message-id.js';
import { meteredMailer } from '../shared/mail/metered-mailer.js';
import type { WorkerMeter } from '../shared/metrics.js';
import { openRedis, watchRedis, type RedisTarget } from '../shared/redis.js';
import { replicaWait } from '../shared/redis-durability.js';
import type { KeyRelays } from '../shared/session/issue-key.js';
import { RedisApplianceStore } from '../shared/store/redis-appliance.store.js';
import { RedisAuditLog } from '../shared/store/redis-audit.store.js';
import { CredentialStore, credentialSecretFrom } from '../shared/store/credential.store.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import { CommentBurst } from '../ticketing/comment-burst.js';
import { buildTicketAdapters } from '../ticketing/help-desks.js';
import type { TicketAdapters } from '../ticketing/ticket-adapter.js';
import { AuditBridge } from './audit-bridge.js';
import { createExpiryWorker } from './expiry.worker.js';
import { createKeyDeliveryWorker } from './key-delivery.worker.js';
import { createKeyIssueWorker } from './key-issue.worker.js';
import { createNotificationsWorker } from './notifications.worker.js';
import { createTicketEventsWorker } from './ticket-events.worker.js';
import { createTicketSyncWorker } from './ticket-sync.worker.js';
import { createTunnelMonitorWorker } from './tunnel-monitor.worker.js';
import type { FailedForGood, WorkerRuntime } from './worker-kit.js';
import { AccessStore } from '../shared/store/access.store.js';

/** Knobs with production defaults; tests shorten them. */
export interface PipelineTuning {
  concurrency?: number;
  retry?: RetryPolicy;
  /** Sweep period of the tunnel monitor (default: a third of TETHER_LOST_GRACE_MS, at least 1 s). */
  monitorEveryMs?: number;
  /** Life of keys provisioned for tickets (default 7 days). */
  ticketKeyTtlMs?: number;
  /** Support mailbox for key-sent and failed-job notices (default: the TETHER_MAIL_FROM address; null: none). */
  operatorEmail?: string | null;
  /** Mail that mailbox a notice for every key sent (default: config.keySentNotice, TETHER_KEY_SENT_NOTICE). */
  keySentNotice?: boolean;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  bridgeBlockMs?: number;
  bridgeClaimIdleMs?: number;
  /** Which queues get workers here (default all); the audit bridge runs unless `bridge: false`. */
  queues?: readonly QueueName[];
  bridge?: boolean;
}

export interface StartWorkersDeps {
  config: Readonly<ServerConfig>;
  /** A URL, or a Sentinel-watched primary (shared/redis.ts). */
  redisUrl: RedisTarget;
  /** Usually config.redisPrefix. */
  prefix: string;
  signingKey: SigningKey;
  relay: KeyRelays;
  mailer: Mailer;
  logger: Logger;
  /** The process's metrics (job durations, mails, expiry lateness, transitions); none when absent. */
  metrics?: WorkerMeter | undefined;
  now?: () => number;
  /** Help-desk adapters by system; default: the generic one and the vendors configured in config. */
  adapters?: TicketAdapters;
  tuning?: PipelineTuning;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

export const DEFAULT_TICKET_KEY_TTL_MS = 7 * 86_400_000;
/** 1,000 sessions due at once: p99 ~2 s late at 8 in flight, under 1 s at 50 (bench/pipeline-expiry). */
const EXPIRY_CONCURRENCY = 50;
/** key-issue waits on the SMTP server for each key mail: enough in flight to keep the mail pool busy. */
const KEY_ISSUE_CONCURRENCY = 32;


export async function startWorkers(deps: StartWorkersDeps): Promise<RunningWorkers> {
  const t = deps.tuning ?? {};
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'workers' });
  const warnOffsetsMs = deps.config.warnOffsetsMs;
  const plain = openRedis(deps.redisUrl, { name: 'tether-pipeline' });
  const blocking = openRedis(deps.redisUrl, { forBullmq: true, name: 'tether-workers' });
  const watches = [watchRedis(plain, log, 'tether-pipeline'), watchRedis(blocking, log, 'tether-workers')];

  // Before a mail or a 202 depends on a write, it is on the replicas (shared/redis-durability.ts).
  const wait = deps.config.redisWait;
  const waitForReplicas = replicaWait({ replicas: wait?.replicas ?? 0, timeoutMs: wait?.timeoutMs ?? 500, onShort: (acked) => log.warn({ acked, wanted: wait?.replicas }, 'write not on enough Redis replicas in time') });
  const sessions = new RedisSessionStore(plain, deps.prefix);
  const audit = new RedisAuditLog(plain, deps.prefix);
  const keyTexts = new RedisKeyTextStore(plain, deps.prefix, keyTextSecretFrom(deps.signingKey.privateKey));
  const appliances = new RedisApplianceStore(plain, deps.prefix);
  const credentials = new CredentialStore(plain, deps.prefix, credentialSecretFrom(deps.signingKey.privateKey));
  const producers = new Producers({ connection: plain, prefix: deps.prefix, retry: t.retry, replicaWait: waitForReplicas });
  const adapters = deps.adapters ?? buildTicketAdapters(deps.config, { now });
  const sentMails = new SentMailStore(plain, deps.prefix);
  const closedTickets = new RedisClosedTickets(plain, deps.prefix);
  const mailDomain = mailDomainOf(deps.config.mailFrom);
  const operatorEmail = t.operatorEmail === null ? undefined : (t.operatorEmail ?? addressOf(deps.config.mailFrom));
  const keySentNoticeTo = (t.keySentNotice ?? deps.config.keySentNotice) ? operatorEmail : undefined;

  const onFailedForGood = async (f: FailedForGood) => {
    await audit.append('job.failed', { queue: f.queue, jobId: f.jobId, jobName: f.jobName, attempts: f.attempts, error: f.error }, now());
    // A failed notice about a failed job would only loop; the audit entry and the log carry it.
    if (!operatorEmail || f.queue === QUEUE.notifications) return;
    await producers.notification({ template: 'job_failed', to: [operatorEmail], ...f }, jobIds.jobFailed(f.queue, f.jobId, f.failedAt));
  };
  const rt: WorkerRuntime = {
    connection: blocking,
    prefix: deps.prefix,
    logger: deps.logger,
    concurrency: t.concurrency,
    lockDurationMs: t.lockDurationMs,
    stalledIntervalMs: t.stalledIntervalMs,
    onFailedForGood,
    metrics: deps.metrics,
  };
  const common = { sessions, producers, now, logger: deps.logger };
  const mailer = deps.metrics ? meteredMailer(deps.mailer, deps.metrics) : deps.mailer;
  const factories: Record<QueueName, () => Worker> = {
    [QUEUE.ticketEvents]: () => createTicketEventsWorker({ ...common, closedTickets, ticketKeyTtlMs: t.ticketKeyTtlMs ?? DEFAULT_TICKET_KEY_TTL_MS, access: new AccessStore(plain, deps.prefix) }, rt),
    [QUEUE.keyIssue]: () =>
      createKeyIssueWorker(
        { ...common, keyTexts, closedTickets, signingKey: deps.signingKey, relay: deps.relay, appliances, credentials, mailer, mailDomain, keySentNoticeTo, replicated: () => waitForReplicas(plain) },
        { ...rt, concurrency: t.concurrency ?? KEY_ISSUE_CONCURRENCY },
      ),
    [QUEUE.keyDelivery]: () => createKeyDeliveryWorker({ ...common, keyTexts, mailer, mailDomain, keySentNoticeTo }, rt),
    [QUEUE.notifications]: () => createNotificationsWorker({ sessions, mailer, now, logger: deps.logger, mailDomain, sentMails }, rt),
    [QUEUE.ticketSync]: () => createTicketSyncWorker({ adapters, logger: deps.logger, burst: new CommentBurst({ redis: plain, prefix: deps.prefix, now }) }, rt),
    // Expiry jobs are tiny and bunch up at shared deadlines: more in flight keeps a burst on time.
    [QUEUE.expiry]: () => createExpiryWorker({ ...common, warnOffsetsMs, metrics: deps.metrics }, { ...rt, concurrency: t.concurrency ?? EXPIRY_CONCURRENCY }),
    [QUEUE.tunnelMonitor]: () => createTunnelMonitorWorker({ sessions, now, logger: deps.logger, graceMs: deps.config.lostGraceMs }, rt),
  };
  const selected = t.queues ?? QUEUE_NAMES;
  const workers = selected.map((q) => factories[q]());
  if (selected.includes(QUEUE.tunnelMonitor)) {
    await producers.ensureMonitor(t.monitorEveryMs ?? Math.max(1_000, Math.floor(deps.config.lostGraceMs / 3)));
  }
  const bridge =
    t.bridge === false
      ? undefined
      : new AuditBridge({
          connection: blocking,
          prefix: deps.prefix,
          sessions,
          keyTexts,
          producers,
          now,
          logger: deps.logger,
          appliances,
          credentials,
          warnOffsetsMs,
          blockMs: t.bridgeBlockMs,
          claimIdleMs: t.bridgeClaimIdleMs,
          metrics: deps.metrics,
        });
  await bridge?.start();
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log.info({ queues: selected, bridge: Boolean(bridge) }, 'workers started');

  let closing: Promise<void> | undefined;
  return {
    close() {
      // Shutting down: no more reconnect attempts or outage lines from these connections.
      for (const w of watches) w.quiet();
      for (const c of [plain, blocking]) c.options.retryStrategy = () => null;
      closing ??= (async () => {
        await bridge?.close();
        await Promise.all(workers.map((w) => w.close()));
        await producers.close();
        plain.disconnect();
        blocking.disconnect();
        log.info('workers stopped');
      })();
      return closing;
    },
  };
}
