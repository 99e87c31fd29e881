// The comment burst store over real Redis: comments to one ticket within the window become one
// comment posted by the newest job; a retried poster posts its claim again; a crashed job's
// comment is not posted twice; a steady stream is still posted once the oldest has waited 4 windows.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CommentBurst } from '../../ticketing/comment-burst.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';

let redis: Redis;
const prefix = randomPrefix();
const burst = () => new CommentBurst({ redis, prefix, now: Date.now });
const note = (body: string) => ({ body, internal: true });

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('comment bursts', () => {
  it('three comments within the window become one, oldest first, posted by the newest job', async () => {
    const ticket = { system: 'zendesk', id: '101' };
    const b = burst();
    const results = await Promise.all([
      b.settle(ticket, 'job-1', note('Tether connected.'), 300),
      new Promise((r) => setTimeout(r, 30)).then(() => b.settle(ticket, 'job-2', note('Tether lost.'), 300)),
      new Promise((r) => setTimeout(r, 60)).then(() => b.settle(ticket, 'job-3', note('Tether reconnected.'), 300)),
    ]);
    expect(results).toEqual([{ post: false }, { post: false }, { post: true, comment: note('Tether connected.\n\nTether lost.\n\nTether reconnected.'), count: 3 }]);
  });

  it('a poster whose post failed posts the same comments again at once; a finished burst\'s job posts nothing', async () => {
    const ticket = { system: 'jira', id: 'SUP-1' };
    const b = burst();
    const first = await b.settle(ticket, 'job-a', note('Tether connected.'), 50);
    expect(first).toMatchObject({ post: true, count: 1 });
    const t0 = Date.now();
    expect(await b.settle(ticket, 'job-a', note('Tether connected.'), 5_000)).toEqual(first);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await b.posted(ticket, 'job-a', true);
    // The same job run again (a stalled job taken over) finds its comment posted already.
    expect(await b.settle(ticket, 'job-a', note('Tether connected.'), 50)).toEqual({ post: false });
  });

  it('keeps internal notes and public comments to one ticket apart, and tickets apart', async () => {
    const b = burst();
    const [a, p, other] = await Promise.all([
      b.settle({ system: 'freshdesk', id: '7' }, 'j-1', note('internal'), 100),
      b.settle({ system: 'freshdesk', id: '7' }, 'j-2', { body: 'public', internal: false }, 100),
      b.settle({ system: 'freshdesk', id: '8' }, 'j-3', note('other ticket'), 100),
    ]);
    expect(a).toMatchObject({ post: true, comment: note('internal') });
    expect(p).toMatchObject({ post: true, comment: { body: 'public', internal: false } });
    expect(other).toMatchObject({ post: true, comment: note('other ticket') });
  });

  it('posts a steady stream once the oldest comment has waited four windows', async () => {
    const ticket = { system: 'github', id: 'acme/support#9' };
    const b = burst();
    const window = 100;
    const runs: Array<Promise<unknown>> = [];
    const started = Date.now();
    for (let i = 0; i < 8; i++) {
      runs.push(b.settle(ticket, `s-${i}`, note(`event ${i}`), window));
      await new Promise((r) => setTimeout(r, 60));
    }
    const outcomes = (await Promise.all(runs)) as Array<{ post: boolean; count?: number }>;
    const posts = outcomes.filter((o) => o.post);
    expect(posts.length).toBeGreaterThanOrEqual(2); // not held back until the stream ends
    expect(posts.reduce((n, o) => n + (o.count ?? 0), 0)).toBe(8);
    expect(Date.now() - started).toBeLessThan(8 * 60 + 5 * window + 500);
  });
});
