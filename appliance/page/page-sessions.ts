// Browser sessions of the Tether page, in memory (a service restart signs everyone out): an
// unguessable id in an HttpOnly SameSite=Strict cookie scoped to the page's path, a CSRF token per
// session that every POST must carry, a new id at sign-in (no fixation), idle and absolute expiry,
// and at most one flash message waiting for the next page view. Signed-in sessions are never
// evicted: past the cap on signed-out ones, new signed-out sessions are refused instead.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';

export const COOKIE = 'ktether_ui';
export const PAGE_PATH = '/support/tether';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  /** The form the refused attempt came from, shown open again. */
  form?: 'key';
  /** A refused description, put back in its box (never a key: credentials are not kept). */
  description?: string;
}

export interface PageSession {
  id: string;
  csrf: string;
  signedIn: boolean;
  created: number;
  seen: number;
  flash: Flash | undefined;
}

export interface SessionOptions {
  clock: Clock;
  idleMs?: number;
  maxAgeMs?: number;
  /** Signed-out sessions (sign-in forms handed out) kept at most; signed-in ones are not counted. */
  max?: number;
}

const token = (): string => randomBytes(32).toString('base64url');

export class PageSessions {
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #max: number;
  readonly #byId = new Map<string, PageSession>();

  constructor(opts: SessionOptions) {
    this.#clock = opts.clock;
    this.#idleMs = opts.idleMs ?? 30 * 60_000;
    this.#maxAgeMs = opts.maxAgeMs ?? 12 * 3_600_000;
    this.#max = opts.max ?? 200;
  }

  /** The live session named by the Cookie header, touched; undefined when none or expired. */
  fromCookie(header: string | undefined): PageSession | undefined {
    const id = header
      ?.split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${COOKIE}=`))
      ?.slice(COOKIE.length + 1);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const s = this.#byId.get(id);
    if (!s) return undefined;
    const now = this.#clock.now();
    if (now - s.seen > this.#idleMs || now - s.created > this.#maxAgeMs) {
      this.#byId.delete(id);
      return undefined;
    }
    s.seen = now;
    return s;
  }

  /**
   * A signed-out session (it carries the sign-in form's CSRF token); undefined when `max` of them
   * are live (cookieless requests must not push signed-in customers out).
   */
  create(): PageSession | undefined {
    const now = this.#clock.now();
    if (this.#signedOut() >= this.#max) this.#dropExpired(now);
    if (this.#signedOut() >= this.#max) return undefined;
    return this.#add(false, now);
  }

  /** Replaces `old` with a signed-in session under a new id and token. */
  signIn(old: PageSession): PageSession {
    this.#byId.delete(old.id);
    return this.#add(true, this.#clock.now());
  }

  #add(signedIn: boolean, now: number): PageSession {
    const s: PageSession = { id: token(), csrf: token(), signedIn, created: now, seen: now, flash: undefined };
    this.#byId.set(s.id, s);
    return s;
  }

  #signedOut(): number {
    let n = 0;
    for (const s of this.#byId.values()) if (!s.signedIn) n++;
    return n;
  }

  #dropExpired(now: number): void {
    for (const [id, s] of this.#byId) if (now - s.seen > this.#idleMs || now - s.created > this.#maxAgeMs) this.#byId.delete(id);
  }

  end(s: PageSession): void {
    this.#byId.delete(s.id);
  }

  csrfMatches(s: PageSession, sent: string | undefined): boolean {
    if (typeof sent !== 'string') return false;
    const a = Buffer.from(s.csrf);
    const b = Buffer.from(sent);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Takes the waiting flash (shown once). */
  takeFlash(s: PageSession): Flash | undefined {
    const f = s.flash;
    s.flash = undefined;
    return f;
  }

  cookie(s: PageSession): string {
    return `${COOKIE}=${s.id}; Path=${PAGE_PATH}; HttpOnly; SameSite=Strict`;
  }

  clearCookie(): string {
    return `${COOKIE}=; Path=${PAGE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}
