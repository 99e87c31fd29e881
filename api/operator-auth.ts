// Who is asking the operator API: a personal token or TETHER_ADMIN_TOKEN as `Authorization: Bearer`,
// or the console's `tether_session` cookie. `requireRole(role)` is the preHandler every operator
// route uses; it sets `request.operator`, refuses with 401/403 before the handler runs (so nothing
// changes), and demands the X-CSRF-Token of the console session on cookie-authenticated changes.
// Tokens are read from the Authorization header only, never from a query string.
import { createHash, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from '../shared/errors.js';
import { BREAK_GLASS_NAME, roleAllows, roleRefusal, type Operator, type OperatorRole } from '../shared/operator-role.js';
import type { ConsoleSession, ConsoleSessionStore } from '../shared/store/console-session.store.js';
import type { OperatorStore } from '../shared/store/operator.store.js';
import { HttpError } from './http-error.js';

export const SESSION_COOKIE = 'tether_session';
export const CSRF_HEADER = 'x-csrf-token';

/** How the operator of this request proved who they are. */
export type OperatorCredential = { via: 'bearer' } | { via: 'cookie'; sessionId: string; csrf: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller; set by requireRole, so only routes guarded by it may read it. */
    operator: Operator;
    operatorCredential: OperatorCredential | null;
  }
  interface FastifyInstance {
    operatorAuth: OperatorAuthenticator;
  }
}

export interface OperatorAuthDeps {
  operators: OperatorStore;
  consoleSessions: ConsoleSessionStore;
  /** TETHER_ADMIN_TOKEN: the break-glass operator `admin`, role admin. */
  adminToken: string | undefined;
}

const BAD_BEARER = 'missing or wrong bearer token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Equal-length digests: the comparison takes the same time whatever was sent. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export class OperatorAuthenticator {
  constructor(private readonly deps: OperatorAuthDeps) {}

  get consoleSessions(): ConsoleSessionStore {
    return this.deps.consoleSessions;
  }

  /** The operator a token (personal or break-glass) belongs to, and how to remember a sign-in with it. */
  async byToken(token: string): Promise<{ operator: Operator; kind: ConsoleSession['kind'] } | null> {
    if (this.deps.adminToken && sameSecret(token, this.deps.adminToken)) return { operator: { name: BREAK_GLASS_NAME, role: 'admin' }, kind: 'break-glass' };
    const operator = await this.deps.operators.authenticate(token);
    return operator ? { operator, kind: 'operator' } : null;
  }

  /** The operator of a console session as it stands now: a removed operator or retired admin token ends it. */
  async bySession(session: ConsoleSession): Promise<Operator | null> {
    if (session.kind === 'break-glass') return this.deps.adminToken ? { name: BREAK_GLASS_NAME, role: 'admin' } : null;
    if (session.kind === 'sso') return { name: session.name, role: session.role };
    const current = await this.deps.operators.get(session.name);
    return current ? { name: current.name, role: current.role } : null;
  }

  /** Who is asking; HttpError 401 otherwise. A bearer header, when present, decides alone. */
  async identify(request: FastifyRequest): Promise<{ operator: Operator; credential: OperatorCredential }> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      const found = m ? await this.byToken(m[1]!) : null;
      if (!found) throw new HttpError(401, 'unauthorized', BAD_BEARER);
      return { operator: found.operator, credential: { via: 'bearer' } };
    }
    const sessionId = request.cookies?.[SESSION_COOKIE];
    if (sessionId) {
      const session = await this.deps.consoleSessions.use(sessionId);
      const operator = session ? await this.bySession(session) : null;
      if (!session || !operator) {
        if (session) await this.deps.consoleSessions.delete(sessionId);
        throw new HttpError(401, 'unauthorized', 'console session expired or ended: sign in again');
      }
      return { operator, credential: { via: 'cookie', sessionId, csrf: session.csrf } };
    }
    throw new HttpError(401, 'unauthorized', BAD_BEARER);
  }
}

/** Cookie parsing and the request decorations; call once on the root instance before any route. */
export async function installOperatorAuth(app: FastifyInstance, deps: OperatorAuthDeps): Promise<void> {
  await app.register(cookie);
  app.decorate('operatorAuth', new OperatorAuthenticator(deps));
  app.decorateRequest('operator', null as unknown as Operator);
  app.decorateRequest('operatorCredential', null);
}

export interface RoleOptions {
  /** What the refusal says the caller may not do; default: the method and route. */
  action?: string;
  /**
   * Also take `Sec-Fetch-Site: same-origin` as proof against CSRF: for a UI we do not write (Bull
   * Board), which cannot send the header. Browsers set that header and pages cannot forge it.
   */
  sameOriginProof?: boolean;
}

function csrfOk(request: FastifyRequest, credential: OperatorCredential, opts: RoleOptions): boolean {
  if (credential.via !== 'cookie' || SAFE_METHODS.has(request.method)) return true;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent === 'string' && sameSecret(sent, credential.csrf)) return true;
  return opts.sameOriginProof === true && request.headers['sec-fetch-site'] === 'same-origin';
}

/** preHandler: the caller must be at least `role`; sets request.operator. */
export function requireRole(role: OperatorRole, options: RoleOptions | string = {}): preHandlerAsyncHookHandler {
  const opts: RoleOptions = typeof options === 'string' ? { action: options } : options;
  return async function guard(request) {
    if (!request.operatorCredential) {
      const { operator, credential } = await request.server.operatorAuth.identify(request);
      request.operator = operator;
      request.operatorCredential = credential;
    }
    const { operator, operatorCredential: credential } = request;
    if (!roleAllows(operator.role, role)) {
      const action = opts.action ?? `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
      throw new AppError('forbidden', roleRefusal(operator.role, role, action));
    }
    if (!csrfOk(request, credential, opts)) throw new HttpError(403, 'csrf', 'missing or wrong CSRF token');
  };
}
