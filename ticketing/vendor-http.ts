// The REST client the vendor adapters share: JSON in and out, a timeout, and the vendors' rate
// limits. A 429 (or 503, or GitHub's 403 rate limit) whose Retry-After fits `maxWaitMs` is waited
// out in process and retried; a longer one, or any other 5xx, becomes a retryable error carrying
// the delay, left to the queue's backoff. Credentials travel in headers and never in messages.
import { AppError, describeError } from '../shared/errors.js';
import { httpCall, type HttpAnswer } from './http-call.js';
import type { TicketAdapter } from './ticket-adapter.js';

export interface VendorHttpOptions {
  /** Help-desk name for messages (`zendesk`, ...). */
  system: string;
  /** Scheme, host and optional path prefix, without a trailing slash. */
  baseUrl: string;
  /** Authorization and any fixed headers (Accept, API version). */
  headers: Readonly<Record<string, string>>;
  timeoutMs?: number;
  /** Longest Retry-After waited out in process (default 30 s). */
  maxWaitMs?: number;
  /** Attempts in process, the first included (default 3). */
  maxAttempts?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface VendorResponse {
  status: number;
  json: unknown;
}

/** The help desk is rate limiting or unavailable; `retryAfterMs` is its own estimate when it gave one. */
export class HelpDeskBusyError extends AppError {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super('help_desk_busy', message, { retryable: true });
    this.name = 'HelpDeskBusyError';
  }
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry-After as delta seconds or an HTTP date; GitHub's primary limit as x-ratelimit-reset (epoch s). */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const ra = headers.get('retry-after')?.trim();
  if (ra) {
    if (/^\d+$/.test(ra)) return Number(ra) * 1_000;
    const at = Date.parse(ra);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = headers.get('x-ratelimit-reset');
  if (headers.get('x-ratelimit-remaining') === '0' && reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1_000 - now);
  return undefined;
}

/** GitHub's secondary rate limit may come as a bare 403 whose message names it (no header). */
const SECONDARY_LIMIT = /secondary rate limit/i;
/** Without a header to say how long, GitHub asks to wait at least a minute. */
export const SECONDARY_LIMIT_WAIT_MS = 60_000;

function isRateLimited(status: number, headers: Headers, body: string): boolean {
  if (status === 429) return true;
  // GitHub answers 403 for its primary and secondary limits, with one of these headers, or names it.
  return status === 403 && (headers.has('retry-after') || headers.get('x-ratelimit-remaining') === '0' || SECONDARY_LIMIT.test(body));
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status >= 500;
}

export interface VendorHttp {
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown): Promise<VendorResponse>;
}

export function createVendorHttp(opts: VendorHttpOptions): VendorHttp {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? realSleep;
  const maxWaitMs = opts.maxWaitMs ?? 30_000;
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function once(method: string, path: string, body: unknown): Promise<HttpAnswer> {
    try {
      return await httpCall({
        method,
        url: `${opts.baseUrl}${path}`,
        headers: { ...opts.headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
      });
    } catch (cause) {
      throw new AppError('internal', `${opts.system} unreachable (${method} ${path}): ${describeError(cause)}`, { retryable: true, cause });
    }
  }

  return {
    async request(method, path, body) {
      const what = `${method} ${path.split('?')[0]}`;
      for (let attempt = 1; ; attempt++) {
        const res = await once(method, path, body);
        const text = res.text;
        if (res.status >= 200 && res.status < 300) {
          let json: unknown = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = null;
          }
          return { status: res.status, json };
        }
        const busy = isRateLimited(res.status, res.headers, text) || res.status === 503;
        const waitMs = busy ? (retryAfterMs(res.headers, now()) ?? (SECONDARY_LIMIT.test(text) ? SECONDARY_LIMIT_WAIT_MS : undefined)) : undefined;
        if (busy && waitMs !== undefined && waitMs <= maxWaitMs && attempt < maxAttempts) {
          await sleep(waitMs);
          continue;
        }
        const message = `${opts.system} answered ${res.status} to ${what}`;
        if (busy) throw new HelpDeskBusyError(`${message}${waitMs !== undefined ? ` (retry after ${Math.ceil(waitMs / 1000)} s)` : ''}`, waitMs);
        if (res.status === 401 || res.status === 403) throw new AppError('config_invalid', `${message}: check the ${opts.system} credentials and their permissions`);
        throw new AppError('internal', message, { retryable: isRetryableStatus(res.status) });
      }
    },
  };
}

/**
 * A vendor's REST client when its API credentials are configured: `http` (undefined otherwise, for
 * optional reads), `api(what)` that refuses with the variables to set, and the adapter fields that
 * follow from them (`identity`: its system, whether it can comment, its comment burst).
 */
export function vendorApi<A extends { url: string }>(
  system: string,
  api: A | undefined,
  headers: (api: A) => Record<string, string>,
  opts: VendorAdapterOptions,
): { http: VendorHttp | undefined; api: (what: string) => VendorHttp; identity: Pick<TicketAdapter, 'system' | 'canComment' | 'commentBurstMs'> } {
  const http = api ? createVendorHttp({ system, baseUrl: api.url, headers: headers(api), now: opts.now, ...opts.http }) : undefined;
  return {
    http,
    identity: { system, canComment: Boolean(http), commentBurstMs: opts.commentBurstMs },
    api(what) {
      if (!http) throw notConfigured(system, what, opts.apiVariables);
      return http;
    },
  };
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** What every vendor adapter receives besides its own configuration. */
export interface VendorAdapterOptions {
  now: () => number;
  /** TETHER_COMMENT_BURST in ms. */
  commentBurstMs: number;
  /** The variables that open its REST API (its <vendor>.config.ts), named when they are missing. */
  apiVariables: readonly string[];
  /** Tests shorten waits; production keeps the defaults. */
  http?: Pick<VendorHttpOptions, 'timeoutMs' | 'maxWaitMs' | 'maxAttempts' | 'sleep'>;
}

/** A non-retryable refusal for a ticket ref this adapter cannot address (wrong shape, another system). */
export function badTicketRef(system: string, id: string, expected: string): AppError {
  return new AppError('usage', `${system} ticket ref "${id.slice(0, 128)}" is not ${expected}`);
}

export function notConfigured(system: string, what: string, variables: readonly string[]): AppError {
  return new AppError('config_invalid', `${system} ${what} need ${variables.join(', ')}`);
}

export function unexpectedAnswer(system: string, what: string): AppError {
  return new AppError('internal', `${system} answered without ${what}`);
}
