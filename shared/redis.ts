// Redis connection factory. Entry points own the connections they open and close them on exit.
// Connection trouble is logged once per outage, not once per retry; a CLI fails fast instead of
// retrying, with one line that names the server (never its password) and the cause. Redis is a
// URL, or a primary that Redis Sentinel watches: then every connection asks the sentinels where the
// primary is, follows a failover, and reconnects when the server it has turns out to be a replica.
import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import { AppError } from './errors.js';
import { coalesceRedisWrites } from './redis-write-coalescing.js';

/** A primary watched by Redis Sentinel; `url` (optional) gives password, user, db and TLS. */
export interface SentinelTarget {
  url?: string | undefined;
  sentinels: readonly { host: string; port: number }[];
  name: string;
  sentinelPassword?: string | undefined;
}

/** Where Redis is: a `redis://` / `rediss://` URL, or a Sentinel-watched primary. */
export type RedisTarget = string | SentinelTarget;

/** ioredis options for a Sentinel target (connection settings are added by the caller). */
function sentinelOptions(t: SentinelTarget): IoRedisOptions {
  const u = t.url ? new URL(t.url) : undefined;
  const db = u && u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    sentinels: t.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: t.name,
    role: 'master',
    sentinelPassword: t.sentinelPassword,
    username: u?.username ? decodeURIComponent(u.username) : undefined,
    password: u?.password ? decodeURIComponent(u.password) : undefined,
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(u?.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    // Subscribes to the sentinels' +switch-master: a failover is followed at once, not on the next error.
    failoverDetector: true,
    // The old primary comes back as a replica: a write there answers READONLY; reconnect and resend.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
}

function build(target: RedisTarget, opts: IoRedisOptions): Redis {
  return coalesceRedisWrites(typeof target === 'string' ? new Redis(target, opts) : new Redis({ ...sentinelOptions(target), ...opts }));
}

export interface RedisOptions {
  /** BullMQ workers need this null; plain clients keep ioredis' default. */
  forBullmq?: boolean;
  name?: string;
  /** One attempt, 2 s to connect, no retries: for commands a person is waiting on. */
  failFast?: boolean;
}

const FAIL_FAST_CONNECT_MS = 2_000;

export function openRedis(url: RedisTarget, opts: RedisOptions = {}): Redis {
  if (opts.failFast) {
    // ioredis' own connectTimeout leaves a socket timer that holds the process for its full length
    // even after a refusal; an unref'd timer of ours gives up after 2 s without holding anything.
    const client = build(url, {
      connectionName: opts.name,
      maxRetriesPerRequest: 0,
      connectTimeout: 0,
      disconnectTimeout: 100,
      retryStrategy: () => null,
      sentinelRetryStrategy: () => null,
      // A command a person waits on needs no failover watch (its sentinel connections outlive quit()).
      failoverDetector: false,
      lazyConnect: true,
    });
    client.on('connecting', () => {
      const timer = setTimeout(() => {
        if (client.status === 'ready' || client.status === 'end') return;
        client.emit('error', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }));
        client.disconnect();
      }, FAIL_FAST_CONNECT_MS);
      timer.unref();
      client.once('ready', () => clearTimeout(timer));
    });
    return client;
  }
  return build(url, {
    connectionName: opts.name,
    maxRetriesPerRequest: opts.forBullmq ? null : 20,
    enableAutoPipelining: !opts.forBullmq,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  });
}

/** The URL without credentials: `redis://host:port/db`; a Sentinel target as `sentinel NAME via h:p,…`. */
export function redactRedisUrl(url: RedisTarget): string {
  if (typeof url !== 'string') return `sentinel ${url.name} via ${url.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'the configured Redis';
  }
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset',
};

/** `cannot reach Redis at redis://127.0.0.1:1 (connection refused)` as a coded error. */
export function redisUnreachable(url: RedisTarget, err: unknown): AppError {
  const e = err as { code?: string; message?: string } | undefined;
  const cause = (e?.code && CAUSES[e.code]) ?? (/timeout|timed out/i.test(e?.message ?? '') ? 'timed out' : (e?.message ?? 'unknown error'));
  return new AppError('redis_unreachable', `cannot reach Redis at ${redactRedisUrl(url)} (${cause})`, { cause: err });
}

/** Connects a failFast client, or throws redisUnreachable within about 2 s. */
export async function connectOrExplain(client: Redis, url: RedisTarget): Promise<Redis> {
  let first: unknown;
  const record = (err: unknown) => (first ??= err);
  client.on('error', record);
  try {
    if (client.status === 'wait') await client.connect();
    return client;
  } catch (err) {
    throw redisUnreachable(url, first ?? err);
  }
}

interface WarnLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * Logs a connection's first error of an outage and its recovery, nothing in between: a Redis that
 * is gone for a minute is two lines, not four hundred. `quiet()` silences it for shutdown.
 */
export function watchRedis(client: Redis, log: WarnLog, name: string): { quiet(): void } {
  let down = false;
  let silent = false;
  client.on('error', (err: Error & { code?: string }) => {
    if (down || silent) return;
    down = true;
    log.warn({ name, err: err.code ?? err.message }, 'redis connection error; retrying quietly until it is back');
  });
  client.on('ready', () => {
    if (!down || silent) return;
    down = false;
    log.info({ name }, 'redis connection back');
  });
  return { quiet: () => void (silent = true) };
}
