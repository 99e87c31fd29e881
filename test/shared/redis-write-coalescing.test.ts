// A connection's commands of one event-loop turn leave in one write (one writev of the socket),
// replies still match their commands in order, and a reconnect's new socket is coalesced too.
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { coalesceRedisWrites } from '../../shared/redis-write-coalescing.js';
import { randomPrefix } from '../helpers/redis-prefix.js';

const open: Redis[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.disconnect();
});

/** Counts the socket's calls down to the stream layer (_write for one chunk, _writev for several). */
function countWrites(client: Redis): { writes: number } {
  const sock = (client as unknown as { stream: Socket & { _write: Function; _writev: Function } }).stream;
  const counter = { writes: 0 };
  const w = sock._write.bind(sock);
  const wv = sock._writev.bind(sock);
  sock._write = (...a: unknown[]) => (counter.writes++, w(...a));
  sock._writev = (...a: unknown[]) => (counter.writes++, wv(...a));
  return counter;
}

async function client(coalesce: boolean): Promise<Redis> {
  const c = new Redis(inject('redisUrl'), { enableAutoPipelining: false });
  open.push(c);
  if (coalesce) coalesceRedisWrites(c);
  await c.ping();
  return c;
}

describe('coalesceRedisWrites', () => {
  it('sends fifty commands of one turn in one write, and each reply answers its own command', async () => {
    const prefix = randomPrefix();
    const plain = await client(false);
    const coalesced = await client(true);
    const before = countWrites(plain);
    const after = countWrites(coalesced);
    const run = (c: Redis, tag: string) => Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? c.get(`${prefix}${tag}${i - 1}`) : c.set(`${prefix}${tag}${i}`, `v${i}`, 'EX', 60))));
    const plainReplies = await run(plain, 'p');
    const replies = await run(coalesced, 'c');
    expect(before.writes).toBe(50);
    expect(after.writes).toBe(1);
    expect(replies).toEqual(plainReplies);
    expect(replies.filter((_, i) => i % 2)).toEqual(Array.from({ length: 25 }, (_, k) => `v${2 * k}`));
  });

  it('keeps coalescing after a reconnect (a new socket)', async () => {
    const c = await client(true);
    const first = (c as unknown as { stream: Socket }).stream;
    const id = await c.client('ID');
    const killer = await client(false);
    await killer.client('KILL', 'ID', String(id));
    await new Promise<void>((resolve) => c.once('ready', () => resolve()));
    expect((c as unknown as { stream: Socket }).stream).not.toBe(first);
    const counter = countWrites(c);
    await Promise.all(Array.from({ length: 10 }, () => c.ping()));
    expect(counter.writes).toBe(1);
  });
});
