// The api's /metrics moves with real webhooks and the real pipeline behind them: a signed generic
// webhook counts as accepted and a forged one as bad_signature; the key mail it leads to counts in
// tether_mail_total; job runs are timed per queue; transitions are counted once by the audit
// bridge; the session and queue gauges are read from Redis on scrape; the expiry's lateness is
// observed. Scraped over HTTP and parsed, as Prometheus does.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QueueCensus } from '../../queues/queue-census.js';
import { QUEUE_NAMES } from '../../queues/queue-names.js';
import { createMetrics, type TetherMetrics } from '../../shared/metrics.js';
import { SessionCensus } from '../../shared/store/session-census.js';
import { signGeneric } from '../../ticketing/generic-signature.js';
import { mailsTo, postWebhook, startHarness, webhookBody, type Harness } from '../pipeline/helpers/pipeline-harness.js';
import { waitFor } from '../pipeline/helpers/wait.js';
import { samplesOf, scrape, valueOf, type Exposition } from './prom-text.js';

let h: Harness;
let metrics: TetherMetrics;
let queues: QueueCensus;
let url: string;

beforeAll(async () => {
  metrics = createMetrics({ roles: ['api', 'workers'] });
  // Keys for tickets live 3 s here, so the expiry runs within the test.
  h = await startHarness({ redisUrl: inject('redisUrl'), metrics, env: { TETHER_WARN_OFFSETS: '1s' }, tuning: { ticketKeyTtlMs: 3_000 } });
  // As serve does for the api role: the Redis-wide gauges, read on scrape (no caching here).
  queues = new QueueCensus(h.redis, h.prefix, { now: Date.now, maxAgeMs: 0 });
  metrics.watchCluster({ sessions: new SessionCensus(h.redis, h.prefix, { now: Date.now, maxAgeMs: 0 }), queues });
  url = `${h.apiUrl}/metrics`;
});

afterAll(async () => {
  await queues?.close();
  await h?.close();
});

async function until(what: string, probe: (e: Exposition) => boolean, timeoutMs = 10_000): Promise<Exposition> {
  return waitFor(async () => {
    const e = await scrape(url);
    return probe(e) ? e : null;
  }, { label: what, timeoutMs, intervalMs: 50 });
}

const deliveries = (e: Exposition, result: string) => valueOf(e, 'tether_webhook_deliveries_total', { system: 'generic', result });

describe('api /metrics with the pipeline', () => {
  it('counts a signed generic webhook as accepted and a duplicate as duplicate', async () => {
    const before = await scrape(url);
    expect(deliveries(before, 'accepted')).toBe(0);
    const body = webhookBody({ id: 'evt-metrics-1', ticketId: '9001', serial: 'SN-METRICS', email: 'metrics@customer.example' });
    expect((await postWebhook(h.apiUrl, body)).status).toBe(202);
    expect((await postWebhook(h.apiUrl, body)).status).toBe(200);
    const after = await scrape(url);
    expect(deliveries(after, 'accepted')).toBe(1);
    expect(deliveries(after, 'duplicate')).toBe(1);
  });

  it('counts a webhook with a bad signature as bad_signature, and an unknown help desk under a fixed label', async () => {
    const raw = JSON.stringify(webhookBody({ id: 'evt-metrics-forged' }));
    const r = await postWebhook(h.apiUrl, raw, signGeneric('not-the-webhook-secret-0123456789', raw, Date.now()));
    expect(r.status).toBe(401);
    expect(r.json.error?.message).toBe('bad signature');
    const res = await fetch(`${h.apiUrl}/v1/webhooks/no-such-desk-4711`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
    const e = await scrape(url);
    expect(deliveries(e, 'bad_signature')).toBe(1);
    expect(deliveries(e, 'accepted')).toBe(1);
    expect(valueOf(e, 'tether_webhook_deliveries_total', { system: 'unknown', result: 'unknown_system' })).toBe(1);
    expect(JSON.stringify(e.samples)).not.toContain('no-such-desk');
  });

  it('counts the key mail the webhook led to, and times each job run per queue', async () => {
    await waitFor(() => mailsTo(h, 'metrics@customer.example', /^Tether key/).length === 1, { label: 'key mail' });
    // key-issue mails the key it mints (key-delivery only carries keys operators minted); its run is timed when it ends.
    const e = await until(
      'key mail counted and its job timed',
      (x) => valueOf(x, 'tether_mail_total', { template: 'key', result: 'sent' }) === 1 && valueOf(x, 'tether_job_duration_seconds_count', { queue: 'key-issue' }) >= 1,
    );
    for (const queue of ['ticket-events', 'key-issue']) {
      expect(valueOf(e, 'tether_job_duration_seconds_count', { queue }), queue).toBeGreaterThanOrEqual(1);
      expect(valueOf(e, 'tether_job_duration_seconds_sum', { queue }), queue).toBeGreaterThan(0);
      expect(valueOf(e, 'tether_job_duration_seconds_bucket', { queue, le: '+Inf' })).toBe(valueOf(e, 'tether_job_duration_seconds_count', { queue }));
    }
    expect(e.types.get('tether_job_duration_seconds')).toBe('histogram');
  });

  it('reads the session and queue gauges from Redis on scrape, and counts the issue transition once', async () => {
    const e = await until('the session counted as ISSUED', (x) => valueOf(x, 'tether_sessions', { state: 'ISSUED' }) === 1);
    expect(samplesOf(e, 'tether_sessions').map((s) => s.labels.state).sort()).toEqual(['CLOSED', 'CONNECTED', 'ISSUED', 'LOST']);
    expect(valueOf(e, 'tether_transitions_total', { type: 'issued', reason: 'none' })).toBe(1);
    for (const queue of QUEUE_NAMES) expect(samplesOf(e, 'tether_queue_jobs', { queue }).length, queue).toBeGreaterThan(0);
    expect(valueOf(e, 'tether_queue_jobs', { queue: 'ticket-events', state: 'completed' })).toBe(1);
    // The expiry jobs planned for the session wait in the delayed set.
    expect(valueOf(e, 'tether_queue_jobs', { queue: 'expiry', state: 'delayed' })).toBeGreaterThanOrEqual(1);
  });

  it('observes the expiry lateness and counts the close with its reason when the key expires', async () => {
    const e = await until('expiry observed', (x) => valueOf(x, 'tether_expiry_lateness_seconds_count') === 1, 10_000);
    const late = valueOf(e, 'tether_expiry_lateness_seconds_sum');
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(2);
    const closed = await until('close counted', (x) => valueOf(x, 'tether_transitions_total', { type: 'closed', reason: 'expired' }) === 1);
    expect(valueOf(closed, 'tether_sessions', { state: 'CLOSED' })).toBe(1);
    expect(valueOf(closed, 'tether_sessions', { state: 'ISSUED' })).toBe(0);
    // The expiring-soon and closed notices are mails too.
    await until('notices counted', (x) => valueOf(x, 'tether_mail_total', { template: 'closed', result: 'sent' }) === 1);
  });
});
