// The audit bridge against real Redis: entries a dead consumer left pending are claimed and reacted to once.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pipelineKeys } from '../../shared/store/redis-keys.js';
import { QUEUE } from '../../queues/queue-names.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { startHarness, type Harness } from './helpers/pipeline-harness.js';
import { RELAY } from './helpers/relay-endpoint.js';
import { waitFor } from './helpers/wait.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl'), workers: false });
});
afterAll(async () => {
  await h?.close();
});

const expiryJobsOf = async (sid: string) => (await h.producers.queue(QUEUE.expiry).getJobs(['delayed'])).filter((j) => j.data?.sid === sid);

describe('audit bridge', () => {
  it('takes over audit entries a crashed consumer read but never acknowledged, and plans their next expiry job once', async () => {
    const { session } = await issueKey(
      { serial: 'SN-BRIDGE', product: 'sda', ttlMs: 3 * 86_400_000, actor: 'test' },
      { sessions: h.sessions, signingKey: h.signingKey, relay: RELAY, now: Date.now },
    );
    const stream = h.sessions.keys.audit;
    const group = pipelineKeys(h.prefix).reactionsGroup;
    // A consumer that read the entries and died before acknowledging them.
    await h.redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM');
    await h.redis.call('XREADGROUP', 'GROUP', group, 'crashed-consumer', 'COUNT', 100, 'STREAMS', stream, '>');
    const pending = (await h.redis.call('XPENDING', stream, group)) as [number, ...unknown[]];
    expect(pending[0]).toBeGreaterThan(0);

    await h.startWorkers({ queues: [], bridgeClaimIdleMs: 300, bridgeBlockMs: 200 });
    const jobs = await waitFor(async () => {
      const j = await expiryJobsOf(session.id);
      return j.length === 1 ? j : null;
    }, { label: 'expiry planned from the claimed entry' });
    // Only the first step (the 24 h warning of a 3-day key); each warning queues the step after it.
    expect(jobs.map((j) => [j.data.kind, j.data.offsetMs])).toEqual([['warn', 86_400_000]]);
    await waitFor(async () => ((await h.redis.call('XPENDING', stream, group)) as [number])[0] === 0, { label: 'entries acknowledged' });
    expect(await expiryJobsOf(session.id)).toHaveLength(1);
  });
});

describe('Redis reply codes', () => {
  it('are read from the reply, not matched in message text', async () => {
    const { redisReplyCode } = await import('../../shared/redis-reply.js');
    const { Redis } = await import('ioredis');
    const c = new Redis(inject('redisUrl'));
    try {
      await c.call('XGROUP', 'CREATE', 'reply-code-test-stream', 'g', '0', 'MKSTREAM');
      const again = await c.call('XGROUP', 'CREATE', 'reply-code-test-stream', 'g', '0', 'MKSTREAM').catch((e: unknown) => e);
      expect(redisReplyCode(again)).toBe('BUSYGROUP');
      const missing = await c.call('XREADGROUP', 'GROUP', 'nosuch', 'c', 'STREAMS', 'reply-code-test-stream', '>').catch((e: unknown) => e);
      expect(redisReplyCode(missing)).toBe('NOGROUP');
      expect(redisReplyCode(new Error('BUSYGROUP lookalike'))).toBeNull();
    } finally {
      await c.del('reply-code-test-stream');
      c.disconnect();
    }
  });
});
