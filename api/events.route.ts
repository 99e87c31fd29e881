// GET /v1/events (viewer): session transitions as Server-Sent Events for the console, one
// `event: session` per transition or issued key, and a comment line every 15 s so proxies keep the stream open.
// Every stream of the process shares one SessionEventFeed (one Redis subscriber); a stream that
// falls behind is ended (the browser reconnects and reloads what it shows), never buffered without bound.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { redisKeys } from '../shared/store/redis-keys.js';
import type { SessionEventMessage } from '../shared/store/session-events.js';
import { guarded } from './operator-route.js';
import { SessionEventFeed } from './session-event-feed.js';

export const HEARTBEAT_MS = 15_000;
/** A stream with this much unsent is a stalled browser: it is ended rather than fed. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface EventsRouteDeps {
  /** The api's client; duplicated once, on the first stream, for the subscriber. */
  redis: Redis;
  redisPrefix: string;
  heartbeatMs?: number;
}

/** The wire form of one transition: the contract's fields, times in ISO 8601. */
export function sessionEventFrame(e: SessionEventMessage): string {
  const expiresAt = e.expiresAt === undefined ? undefined : new Date(e.expiresAt).toISOString();
  const data = { sid: e.sid, serial: e.serial, from: e.from, to: e.to, outcome: e.outcome, reason: e.reason, expiresAt, at: new Date(e.at).toISOString() };
  return `event: session\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function eventsRoute(app: FastifyInstance, deps: EventsRouteDeps): Promise<void> {
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;
  const feed = new SessionEventFeed({ connect: () => deps.redis.duplicate(), channel: redisKeys(deps.redisPrefix).events, logger: app.log });
  const streams = new Set<ServerResponse>();
  let heartbeat: NodeJS.Timeout | undefined;
  let listening: Promise<unknown> | undefined;

  const send = (res: ServerResponse, text: string) => {
    if (res.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
    res.write(text);
  };
  // One listener for the whole process: each transition is formatted once and written to every stream.
  const listen = () => {
    listening ??= feed
      .subscribe((event) => {
        const frame = sessionEventFrame(event);
        for (const res of streams) send(res, frame);
      })
      .catch((err: unknown) => {
        listening = undefined;
        throw err;
      });
    return listening;
  };
  const drop = (res: ServerResponse) => {
    streams.delete(res);
    if (streams.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
  };

  // Open streams would hold server.close() forever: end them before the server stops listening.
  app.addHook('preClose', async () => {
    for (const res of [...streams]) res.end();
    streams.clear();
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
  });
  app.addHook('onClose', async () => feed.close());

  const doc = guarded('viewer', {
    tags: ['events'],
    summary: 'Session transitions as Server-Sent Events (text/event-stream)',
    description:
      'One `event: session` per transition, data `{"sid","serial","from","to","outcome","reason?","expiresAt?","at"}` (times in ISO 8601), one when a key is issued (`to: "ISSUED"`, outcome `issued`, no `from`) and one when a session is extended (outcome `extended`, `from` = `to`, with the new `expiresAt`); a `: heartbeat` comment every 15 s. Events missed while disconnected are not replayed: reload, then listen.',
  });
  app.get('/v1/events', doc, async (_request, reply) => {
    // Subscribed before the answer starts, so a transition right after the browser sees `open` is not lost.
    await listen();
    reply.hijack();
    const res = reply.raw;
    // Keep the headers hooks set (security headers); the stream's own win.
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    streams.add(res);
    heartbeat ??= setInterval(() => {
      for (const s of streams) send(s, ': heartbeat\n\n');
    }, heartbeatMs).unref();
    // 'close' on the response fires when the browser goes away as well as when the stream ends.
    res.on('close', () => drop(res));
  });
}
