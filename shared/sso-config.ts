// Single sign-on for the console (OpenID Connect authorization code flow with PKCE): its settings,
// validated from the environment loadServerConfig (config.ts) was given, all or nothing. Pure: it
// reads only the object it is handed, never process.env.
import { z } from 'zod';
import { OPERATOR_ROLES, type OperatorRole } from './operator-role.js';

/** A claim value (a group, a role name) and the operator role it gives. */
export interface SsoRoleRule {
  value: string;
  role: OperatorRole;
}

export interface SsoConfig {
  /** The provider's issuer identifier; its discovery document is read on the first sign-in. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Scopes asked for; always includes `openid`. */
  scopes: string[];
  /** The claim the role comes from: a top-level claim name, else a dotted path (`realm_access.roles`). */
  roleClaim: string;
  /** Claim value → role; a user matching several rules gets the highest role. */
  roles: readonly SsoRoleRule[];
  /** Role of a user no rule matches; undefined: such a user is refused. */
  defaultRole: 'viewer' | undefined;
  /** The issuer is plain http on loopback (a local or test provider): the HTTPS-only rule is lifted for it alone. */
  insecureLoopback: boolean;
}

export interface SsoSettings {
  sso: SsoConfig | undefined;
  /** TETHER_PUBLIC_URL without a trailing slash: where browsers reach the api (the SSO redirect URL). */
  publicUrl: string | undefined;
  /** One line per problem, each naming its variable. */
  problems: string[];
}

/** The three variables single sign-on cannot do without. */
export const SSO_REQUIRED = ['TETHER_OIDC_ISSUER', 'TETHER_OIDC_CLIENT_ID', 'TETHER_OIDC_CLIENT_SECRET'] as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopbackHttp(u: URL): boolean {
  return u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname);
}

const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** `tether-admins=admin,tether-engineers=engineer`: the last `=` splits, so a value may hold one. */
export function parseSsoRoles(text: string): { rules: SsoRoleRule[]; problems: string[] } {
  const rules: SsoRoleRule[] = [];
  const problems: string[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = part.lastIndexOf('=');
    const value = at > 0 ? part.slice(0, at).trim() : '';
    const role = at > 0 ? part.slice(at + 1).trim() : '';
    if (!value || !(OPERATOR_ROLES as readonly string[]).includes(role)) {
      problems.push(`"${part}" is not VALUE=ROLE with ROLE one of ${OPERATOR_ROLES.join(', ')} (e.g. tether-admins=admin,tether-engineers=engineer)`);
      continue;
    }
    rules.push({ value, role: role as OperatorRole });
  }
  if (rules.length === 0 && problems.length === 0) problems.push('lists no VALUE=ROLE pair (e.g. tether-admins=admin,tether-engineers=engineer)');
  return { rules, problems };
}

const ssoEnvSchema = z.object({
  TETHER_OIDC_ISSUER: z
    .url('must be a URL such as https://login.example.com/realms/support')
    .refine((v) => {
      const u = new URL(v);
      return u.protocol === 'https:' || isLoopbackHttp(u);
    }, 'must be an https:// URL (http:// only on loopback, for a local provider)')
    .optional(),
  TETHER_OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  TETHER_OIDC_CLIENT_SECRET: z.string().min(1).max(2_000).optional(),
  TETHER_OIDC_SCOPES: z
    .string()
    .transform((v) => v.split(/\s+/).filter(Boolean))
    .refine((s) => s.every((x) => SCOPE.test(x)), 'must be scope names separated by spaces')
    .refine((s) => s.includes('openid'), 'must include openid')
    .default(['openid', 'profile', 'email']),
  TETHER_OIDC_ROLE_CLAIM: z.string().regex(/^[\w:./-]{1,200}$/, 'must be a claim name such as groups, or a dotted path such as realm_access.roles').default('groups'),
  TETHER_OIDC_ROLES: z.string().optional(),
  TETHER_OIDC_DEFAULT_ROLE: z.enum(['none', 'viewer']).default('none'),
  TETHER_PUBLIC_URL: z
    .url('must be the URL browsers reach the api at, such as https://tether.example.com')
    .refine((v) => /^https?:$/.test(new URL(v).protocol), 'must be an http:// or https:// URL')
    .refine((v) => !new URL(v).search && !new URL(v).hash, 'must have no query or fragment')
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
});

/** Reads the TETHER_OIDC_* variables and TETHER_PUBLIC_URL; `problems` lists everything wrong at once. */
export function ssoSettings(env: NodeJS.ProcessEnv): SsoSettings {
  const set = (name: string) => Boolean(env[name]);
  const parsed = ssoEnvSchema.safeParse(env);
  const problems = (parsed.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
  const anyOidc = Object.keys(env).some((k) => k.startsWith('TETHER_OIDC_') && set(k));
  if (anyOidc) {
    for (const missing of SSO_REQUIRED.filter((n) => !set(n))) {
      problems.push(`${missing}: required when other TETHER_OIDC_* variables are set (single sign-on needs ${SSO_REQUIRED.join(', ')})`);
    }
  }
  const roles = env.TETHER_OIDC_ROLES ? parseSsoRoles(env.TETHER_OIDC_ROLES) : { rules: [], problems: [] };
  problems.push(...roles.problems.map((p) => `TETHER_OIDC_ROLES: ${p}`));
  if (anyOidc && !set('TETHER_OIDC_ROLES') && env.TETHER_OIDC_DEFAULT_ROLE !== 'viewer') {
    problems.push('TETHER_OIDC_ROLES: required with single sign-on (e.g. tether-admins=admin,tether-engineers=engineer), unless TETHER_OIDC_DEFAULT_ROLE=viewer');
  }
  if (!parsed.success || problems.length) return { sso: undefined, publicUrl: undefined, problems };
  const e = parsed.data;
  const sso: SsoConfig | undefined =
    e.TETHER_OIDC_ISSUER && e.TETHER_OIDC_CLIENT_ID && e.TETHER_OIDC_CLIENT_SECRET
      ? {
          issuer: e.TETHER_OIDC_ISSUER,
          clientId: e.TETHER_OIDC_CLIENT_ID,
          clientSecret: e.TETHER_OIDC_CLIENT_SECRET,
          scopes: e.TETHER_OIDC_SCOPES,
          roleClaim: e.TETHER_OIDC_ROLE_CLAIM,
          roles: roles.rules,
          defaultRole: e.TETHER_OIDC_DEFAULT_ROLE === 'viewer' ? 'viewer' : undefined,
          insecureLoopback: isLoopbackHttp(new URL(e.TETHER_OIDC_ISSUER)),
        }
      : undefined;
  return { sso, publicUrl: e.TETHER_PUBLIC_URL, problems: [] };
}
