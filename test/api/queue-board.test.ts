// Bull Board at /admin/queues over real Redis: admins only (a viewer and an engineer get 403, no
// credential 401, in the API's error shape), an admin gets the board and its queue API over every
// pipeline queue, by bearer token or console cookie.
import { beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../queues/queue-names.js';
import { addOperatorPerRole, useApiHarness } from './helpers/api-fixture.js';

const h = useApiHarness();
let viewer: string, engineer: string, admin: string;
beforeAll(async () => ({ viewer, engineer, admin } = await addOperatorPerRole(h)));

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

  it('serves an admin signed in to the console; a queue change needs the CSRF token or a same-origin fetch', async () => {
    const { cookie, csrf } = await h.signIn(admin, '10.1.0.1');
    expect((await h.call('GET', '/admin/queues', { cookie })).status).toBe(200);
    const change = '/admin/queues/api/queues/key-issue/pause';
    expect((await h.call('PUT', change, { cookie })).json.error.code).toBe('csrf');
    const sameOrigin = await h.app.inject({ method: 'PUT', url: change, headers: { cookie: `tether_session=${cookie}`, 'sec-fetch-site': 'same-origin' } });
    expect(sameOrigin.statusCode).toBe(200);
    expect((await h.call('PUT', '/admin/queues/api/queues/key-issue/resume', { cookie, csrf })).status).toBe(200);
  });
});
