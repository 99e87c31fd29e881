// Console sign-in through single sign-on (OpenID Connect authorization code flow with PKCE), when
// TETHER_OIDC_* is configured. /console/sso/start keeps state, nonce and PKCE verifier in Redis (10
// minutes, used once) and binds them to this browser with an HttpOnly cookie; /console/sso/callback
// exchanges the code, validates the ID token, maps the role claim to a role on every sign-in, and
// creates the console session exactly as a token sign-in does. Refusals answer a small HTML page.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { describeError } from '../shared/errors.js';
import type { SsoConfig } from '../shared/sso-config.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import { redisKeys } from '../shared/store/redis-keys.js';
import { sha256Hex } from '../shared/store/secret-id-records.js';
import { SsoFlowStore, SSO_FLOW_TTL_MS } from '../shared/store/sso-flow.store.js';
import { cookieOptions } from './console-session.route.js';
import { newSignInChecks, OidcClient } from './oidc-client.js';
import { SESSION_COOKIE } from './operator-auth.js';
import { registerSignInRateLimit, signInRateLimit } from './sign-in-rate-limit.js';
import { claimValues, operatorNameFromClaims, roleFromClaims, type Claims } from './sso-identity.js';
import { ssoRefusalPage } from './sso-page.js';

export const SSO_START_PATH = '/console/sso/start';
export const SSO_CALLBACK_PATH = '/console/sso/callback';
/** Binds a sign-in to the browser that started it. Lax: it must come back on the provider's redirect. */
export const SSO_COOKIE = 'tether_sso';
const SSO_COOKIE_PATH = '/console/sso/';

export interface ConsoleSsoRouteDeps {
  /** undefined: SSO is not configured; the routes say so. */
  sso: SsoConfig | undefined;
  /** TETHER_PUBLIC_URL; without it the redirect URL is built from the request's protocol and Host. */
  publicUrl: string | undefined;
  redis: Redis;
  redisPrefix: string;
  audit: AuditLog;
  now: () => number;
  /** SSO starts per client address per minute (default 10, like the token sign-in). */
  startsPerMinute?: number | undefined;
}

const hidden = { hide: true };

function redirectUriOf(request: FastifyRequest, publicUrl: string | undefined): string {
  return `${publicUrl ?? `${request.protocol}://${request.host}`}${SSO_CALLBACK_PATH}`;
}

/** The ID token (or userinfo) names the user and carries the role claim. */
function completeClaims(roleClaim: string) {
  return (claims: Claims) => claimValues(claims, roleClaim).length > 0 && Boolean(claims.preferred_username || claims.email);
}

export async function consoleSsoRoute(app: FastifyInstance, deps: ConsoleSsoRouteDeps): Promise<void> {
  const { sso } = deps;
  const client = sso ? new OidcClient(sso) : undefined;
  const flows = new SsoFlowStore(deps.redis, deps.redisPrefix);
  await registerSignInRateLimit(app, deps.redis, redisKeys(deps.redisPrefix).ssoStartRate);
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/console/sso',
    {
      schema: {
        tags: ['console sign-in'],
        summary: 'Whether the console offers single sign-on, and where it starts',
        description: 'No credential needed. `configured` is true when TETHER_OIDC_* is set.',
        response: { 200: z.object({ configured: z.boolean(), startUrl: z.string().describe('a same-origin path') }) },
      },
    },
    async () => ({ configured: Boolean(sso), startUrl: SSO_START_PATH }),
  );

  const notConfigured = (reply: FastifyReply) =>
    ssoRefusalPage(reply, 404, 'unavailable', 'Single sign-on is not configured', ['This Tether console signs in with personal tokens only.']);

  app.get(
    SSO_START_PATH,
    { schema: hidden, config: signInRateLimit(deps.startsPerMinute) },
    async (request, reply) => {
      if (!sso || !client) return notConfigured(reply);
      try {
        await client.ready();
      } catch (err) {
        request.log.warn({ err: describeError(err), issuer: sso.issuer }, 'SSO: identity provider unreachable');
        return ssoRefusalPage(reply, 503, 'unavailable', 'The identity provider cannot be reached', ['Try again in a moment, or sign in with a personal token.']);
      }
      const redirectUri = redirectUriOf(request, deps.publicUrl);
      const binding = randomBytes(32).toString('base64url');
      const checks = newSignInChecks();
      const state = await flows.create({ ...checks, redirectUri, browser: sha256Hex(binding), createdAt: deps.now() });
      const url = await client.authorizationUrl(redirectUri, state, checks);
      reply.setCookie(SSO_COOKIE, binding, { ...cookieOptions(request), sameSite: 'lax', path: SSO_COOKIE_PATH, maxAge: SSO_FLOW_TTL_MS / 1000 });
      reply.header('cache-control', 'no-store');
      return reply.redirect(url, 303);
    },
  );

  app.get(SSO_CALLBACK_PATH, { schema: hidden }, async (request, reply) => {
    if (!sso || !client) return notConfigured(reply);
    const query = request.query as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const binding = request.cookies[SSO_COOKIE];
    const again = 'Start again from the sign-in page.';

    // Taken once, whatever follows: a replayed or tampered callback finds nothing.
    const state = text(query.state);
    const flow = state ? await flows.take(state) : null;
    if (!flow) {
      request.log.info('SSO callback refused: unknown, used or expired state');
      return ssoRefusalPage(reply, 400, 'not_started', 'This sign-in is not valid', ['It has expired, was already used, or was not started by this console.', again]);
    }
    // Only a callback that names a real sign-in spends the binding cookie: a forged one leaves it for the genuine callback.
    reply.clearCookie(SSO_COOKIE, { ...cookieOptions(request), sameSite: 'lax', path: SSO_COOKIE_PATH });
    if (!binding || sha256Hex(binding) !== flow.browser) {
      request.log.info('SSO callback refused: started in another browser');
      return ssoRefusalPage(reply, 400, 'other_browser', 'This sign-in was started in another browser', [again]);
    }
    if (query.error !== undefined) {
      const detail = [text(query.error), text(query.error_description)].filter(Boolean).join(': ').slice(0, 300);
      return ssoRefusalPage(reply, 403, 'provider_error', 'The identity provider did not sign you in', [detail || 'No reason was given.', again]);
    }

    let claims: Claims;
    try {
      // The redirect URL this sign-in used, with the provider's answer: behind a proxy the request's own URL may differ.
      const callbackUrl = new URL(flow.redirectUri);
      callbackUrl.search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      claims = await client.finish(callbackUrl, { state, verifier: flow.verifier, nonce: flow.nonce }, completeClaims(sso.roleClaim));
    } catch (err) {
      const reason = describeError(err).slice(0, 300);
      request.log.warn({ err: reason }, 'SSO: code exchange or ID token check failed');
      return ssoRefusalPage(reply, 502, 'exchange_failed', 'The sign-in could not be completed', [`The identity provider's answer was not accepted: ${reason}`, again]);
    }

    const name = operatorNameFromClaims(claims);
    if (!name) return ssoRefusalPage(reply, 403, 'no_name', 'Your account has no name Tether can use', ['The identity provider sent none of preferred_username, email or sub.']);
    const role = roleFromClaims(claims, sso);
    const now = deps.now();
    if (!role) {
      await deps.audit.append('console.sign_in_refused', { actor: name, via: 'sso', reason: 'no_role' }, now);
      const values = claimValues(claims, sso.roleClaim).slice(0, 10);
      return ssoRefusalPage(reply, 403, 'no_role', 'Your account may not use the Tether console', [
        `You signed in as ${name}, but your "${sso.roleClaim}" claim (${values.length ? values.join(', ') : 'empty'}) maps to no Tether role.`,
        'Ask an administrator to add you to a group that gives one, or sign in with a personal token.',
      ]);
    }
    // Exactly as a token sign-in: the same store, cookie and audit type; the role is the one just mapped.
    const { id } = await request.server.operatorAuth.consoleSessions.create({ name, role, kind: 'sso' }, now);
    await deps.audit.append('console.signed_in', { actor: name, via: 'sso', role }, now);
    reply.setCookie(SESSION_COOKIE, id, cookieOptions(request));
    reply.header('cache-control', 'no-store');
    return reply.redirect('/console/', 303);
  });
}
