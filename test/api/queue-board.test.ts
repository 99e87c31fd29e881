// Bull Board at /admin/queues over real Redis: admins only (a viewer and an engineer get 403, no
// credential 401, in the API's error shape), an admin gets the board and its queue API over every
// pipeline queue, by bearer token or console cookie; the board changes nothing but retries of failed
// jobs, each audited with the operator's name.
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producers } from '../../queues/producers.js';
import { QUEUE, QUEUE_NAMES } from '../../queues/queue-names.js';
import { bullPrefix } from '../../shared/store/redis-keys.js';
import { addOperatorPerRole, useApiHarness } from './helpers/api-fixture.js';

const h = useApiHarness();
let viewer: string, engineer: string, admin: string;
let producers: Producers;
beforeAll(async () => {
  ({ viewer, engineer, admin } = await addOperatorPerRole(h));
  producers = new Producers({ connection: h.redis, prefix: h.prefix });
});
afterAll(async () => {
  await producers?.close();
});

/** A notifications job that ran once: failed for good (its one attempt threw) or completed. */
async function finishedJob(outcome: 'failed' | 'completed'): Promise<string> {
  const job = await producers.queue(QUEUE.notifications).add('notification', { v: 1 }, { attempts: 1 });
  const connection = h.redis.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(QUEUE.notifications, async () => (outcome === 'failed' ? Promise.reject(new Error('smtp down')) : 'sent'), { connection, prefix: bullPrefix(h.prefix) });
  try {
    for (let i = 0; i < 200 && (await job.getState()) !== outcome; i++) await new Promise((r) => setTimeout(r, 25));
  } finally {
    await worker.close();
    connection.disconnect();
  }
  expect(await job.getState()).toBe(outcome);
  return job.id!;
}

describe('Bull Board', () => {
  it('refuses a viewer and an engineer with 403, and no credential with 401', async () => {
    for (const url of ['/admin/queues', '/admin/queues/api/queues']) {
      const refused = await h.call('GET', url, { token: viewer });
      expect(refused).toMatchObject({ status: 403, json: { error: { code: 'forbidden', message: 'viewer may not see the queue board: needs admin' } } });
      expect((await h.call('GET', url, { token: engineer })).status).toBe(403);
      expect((await h.call('GET', url)).json.error.code).toBe('unauthorized');
    }
  });

  it('serves an admin the board and the state of every pipeline queue', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: `Bearer ${admin}` } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('Tether queues');
    const api = await h.call('GET', '/admin/queues/api/queues?activeQueue=&page=1&jobsPerPage=10', { token: admin });
    expect(api.status).toBe(200);
    expect(api.json.queues.map((q: { name: string }) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('refuses to add, edit, clean, pause or obliterate jobs, even for an admin: nothing is queued or changed', async () => {
    const keyIssue = producers.queue(QUEUE.keyIssue);
    const add = await h.call('POST', '/admin/queues/api/queues/key-issue/add', { token: admin }, { name: 'key-issue', data: { v: 1, serial: 'K1000-FORGED', product: 'sma', ttlMs: 3_600_000, actor: 'alice' }, options: {} });
    expect(add).toMatchObject({ status: 403, json: { error: { code: 'forbidden', message: 'the queue board is read-only: it only retries failed jobs' } } });
    expect(await keyIssue.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized')).toBe(0);
    for (const [method, url] of [
      ['PUT', '/admin/queues/api/queues/key-issue/pause'],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['PUT', '/admin/queues/api/queues/key-issue/obliterate'],
      ['PUT', '/admin/queues/api/queues/key-issue/clean/failed'],
      ['PUT', '/admin/queues/api/queues/key-issue/retry/completed'],
      ['PATCH', '/admin/queues/api/queues/key-issue/some-job/update-data'],
    ] as const) {
      expect((await h.call(method, url, { token: admin }, {})).status, `${method} ${url}`).toBe(403);
    }
    expect(await keyIssue.isPaused()).toBe(false);
    expect(await h.auditOf('queue.retried')).toEqual([]);
  });

  it('retries a failed job for an admin, audited with the operator\'s name; a completed job is not run again', async () => {
    const id = await finishedJob('failed');
    const retried = await h.call('PUT', `/admin/queues/api/queues/notifications/${id}/retry`, { token: admin });
    expect(retried.status).toBe(204);
    const job = await producers.queue(QUEUE.notifications).getJob(id);
    expect(await job!.getState()).toBe('waiting');
    expect((await h.auditOf('queue.retried')).map((e) => e.fields)).toEqual([expect.objectContaining({ queue: 'notifications', job: id, actor: 'ada' })]);
    await job!.remove();
    const done = await finishedJob('completed');
    expect((await h.call('PUT', `/admin/queues/api/queues/notifications/${done}/retry`, { token: admin })).status).toBe(403);
    expect(await (await producers.queue(QUEUE.notifications).getJob(done))!.getState()).toBe('completed');
  });

  it('serves an admin signed in to the console; a retry needs the CSRF token or a same-origin fetch', async () => {
    const { cookie, csrf } = await h.signIn(admin, '10.1.0.1');
    expect((await h.call('GET', '/admin/queues', { cookie })).status).toBe(200);
    const change = '/admin/queues/api/queues/key-issue/retry/failed';
    expect((await h.call('PUT', change, { cookie })).json.error.code).toBe('csrf');
    const sameOrigin = await h.app.inject({ method: 'PUT', url: change, headers: { cookie: `tether_session=${cookie}`, 'sec-fetch-site': 'same-origin' } });
    expect(sameOrigin.statusCode).toBe(200);
    expect((await h.call('PUT', change, { cookie, csrf })).status).toBe(200);
  });
});
