// One prom-client Registry per process, built by the entry point and passed down: default process
// metrics plus every tether_* metric. Process folders see only the small meter interfaces below;
// nothing registers on import and prom-client's global default registry is never used.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import { CLOSE_REASONS, SESSION_STATES, type SessionState } from './session/session-machine.js';

// Every label value is one of a fixed set of words: never an id, serial, name or free text.
export const AUTH_FAILURE_REASONS = ['key_refused', 'key_already_used', 'session_closed', 'key_expired', 'unavailable'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];
export type AuthKind = 'appliance' | 'engineer';
export const WEBHOOK_RESULTS = ['accepted', 'duplicate', 'ignored', 'bad_signature', 'invalid_body', 'unknown_system', 'error'] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];
export type MailResult = 'sent' | 'failed' | 'refused';
/** Transition types as the audit stream names them (`session.<type>`). */
const TRANSITION_TYPES = ['issued', 'activated', 'reconnected', 'lost', 'closed'] as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/** Bytes relayed by engineer channels: plain numbers, so the per-chunk path allocates nothing. */
export interface RelayByteTotals {
  toAppliance: number;
  fromAppliance: number;
}

export interface RelayLiveCounts {
  tunnels(): number;
  engineerChannels(): number;
}

export interface RelayMeter {
  readonly bytes: RelayByteTotals;
  /** Once per connection that ended without authenticating. */
  authFailure(kind: AuthKind, reason: AuthFailureReason): void;
  /** The relay's live counts, read on scrape; returns the call that stops reading them. */
  watchRelay(live: RelayLiveCounts): () => void;
}

export interface WebhookMeter {
  webhookDelivery(system: string, result: WebhookResult): void;
}

export interface MailMeter {
  mail(template: string, result: MailResult): void;
}

export interface WorkerMeter extends MailMeter {
  jobDuration(queue: string, seconds: number): void;
  expiryLateness(seconds: number): void;
  /** Once per `session.<type>` audit entry, by the consumer that acknowledged it; non-transitions are ignored. */
  transition(type: string, reason: string): void;
}

/** Redis-wide counts, the same in every process: read on scrape by the processes that watch them. */
export interface ClusterSources {
  sessions: { count(): Promise<Record<SessionState, number>> };
  queues: { count(): Promise<ReadonlyArray<{ queue: string; state: string; count: number }>> };
}

export interface TetherMetrics extends RelayMeter, WebhookMeter, WorkerMeter {
  readonly registry: Registry;
  watchCluster(sources: ClusterSources): void;
  /** Prometheus text exposition of the whole registry. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** The roles this process hosts, exported as tether_role{role} 1. */
  roles?: readonly string[];
  logger?: Logger;
  /** A Redis-backed read slower than this leaves its gauge as it was (the scrape still answers). */
  collectTimeoutMs?: number;
}

const word = (value: string, allowed: readonly string[], other = 'other') => (allowed.includes(value) ? value : other);
/** Template and queue names are constants of ours; anything else is clamped rather than trusted. */
const token = (value: string) => (/^[a-z][a-z0-9_-]{0,31}$/.test(value) ? value : 'other');

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function createMetrics(opts: MetricsOptions = {}): TetherMetrics {
  const registry = new Registry();
  const registers = [registry];
  const timeoutMs = opts.collectTimeoutMs ?? 3_000;
  collectDefaultMetrics({ register: registry });
  const bytes: RelayByteTotals = { toAppliance: 0, fromAppliance: 0 };
  const relays = new Set<RelayLiveCounts>();
  let cluster: ClusterSources | undefined;
  const failed = (what: string) => (err: unknown) => opts.logger?.warn({ err: describeError(err), what }, 'metrics: scrape-time read failed; gauge left as it was');

  const role = new Gauge({ name: 'tether_role', help: 'Roles this process hosts (1 each)', labelNames: ['role'], registers });
  for (const r of opts.roles ?? []) role.set({ role: token(r) }, 1);

  new Gauge({
    name: 'tether_sessions',
    help: 'Sessions by state, Redis-wide (the same in every process that reports it)',
    labelNames: ['state'],
    registers,
    async collect() {
      if (!cluster) return;
      const counts = await withDeadline(cluster.sessions.count(), timeoutMs).catch(failed('sessions'));
      if (counts) for (const state of SESSION_STATES) this.set({ state }, counts[state]);
    },
  });
  new Gauge({
    name: 'tether_queue_jobs',
    help: 'Jobs by queue and state, Redis-wide (BullMQ getJobCounts)',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      if (!cluster) return;
      const rows = await withDeadline(cluster.queues.count(), timeoutMs).catch(failed('queues'));
      for (const r of rows ?? []) this.set({ queue: token(r.queue), state: word(r.state, QUEUE_STATES) }, r.count);
    },
  });
  const transitions = new Counter({ name: 'tether_transitions_total', help: 'Session transitions, counted once system-wide by the audit consumer that acknowledged them', labelNames: ['type', 'reason'], registers });

  /** A gauge of one live count, summed over the relays watched in this process. */
  const relayGauge = (name: string, help: string, count: (r: RelayLiveCounts) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        let n = 0;
        for (const r of relays) n += count(r);
        this.set(n);
      },
    });
  relayGauge('tether_relay_tunnels', 'Live appliance tunnels held by this relay', (r) => r.tunnels());
  relayGauge('tether_relay_engineer_channels', 'Open engineer channels on this relay', (r) => r.engineerChannels());
  new Counter({
    name: 'tether_relay_bytes_total',
    help: 'Bytes relayed by engineer channels, by direction',
    labelNames: ['direction'],
    registers,
    // The relay adds to plain numbers per chunk; the counter mirrors them when scraped.
    collect() {
      this.reset();
      this.inc({ direction: 'to_appliance' }, bytes.toAppliance);
      this.inc({ direction: 'from_appliance' }, bytes.fromAppliance);
    },
  });
  const authFailures = new Counter({ name: 'tether_relay_auth_failures_total', help: 'Relay connections that ended without authenticating, by the last refusal', labelNames: ['kind', 'reason'], registers });

  const jobDuration = new Histogram({
    name: 'tether_job_duration_seconds',
    help: 'Time a worker spent on one job run (successful or not), by queue',
    labelNames: ['queue'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const webhooks = new Counter({ name: 'tether_webhook_deliveries_total', help: 'Help-desk webhook deliveries by system and result', labelNames: ['system', 'result'], registers });
  const mails = new Counter({ name: 'tether_mail_total', help: 'Mails handed to SMTP by template and result', labelNames: ['template', 'result'], registers });
  const lateness = new Histogram({
    name: 'tether_expiry_lateness_seconds',
    help: 'How late the expiry teardown ran after the session deadline',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });

  return {
    registry,
    bytes,
    authFailure: (kind, reason) => authFailures.inc({ kind, reason: word(reason, AUTH_FAILURE_REASONS) }),
    watchRelay(live) {
      relays.add(live);
      return () => void relays.delete(live);
    },
    webhookDelivery: (system, result) => webhooks.inc({ system: token(system), result: word(result, WEBHOOK_RESULTS) }),
    mail: (template, result) => mails.inc({ template: token(template), result }),
    jobDuration: (queue, seconds) => jobDuration.observe({ queue: token(queue) }, seconds),
    expiryLateness: (seconds) => lateness.observe(Math.max(0, seconds)),
    transition(type, reason) {
      // Other session.* entries (extended, ...) are not transitions.
      if ((TRANSITION_TYPES as readonly string[]).includes(type)) transitions.inc({ type, reason: word(reason || 'none', [...CLOSE_REASONS, 'none']) });
    },
    watchCluster(sources) {
      cluster = sources;
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
