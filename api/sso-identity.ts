// Who an SSO sign-in is, from the identity provider's claims (pure): the operator name
// (`sso:` + preferred_username, else email, else sub) and the role the configured claim maps to.
// Claims are untrusted text: names are trimmed of control characters and bounded.
import { OPERATOR_ROLES, type OperatorRole } from '../shared/operator-role.js';
import type { SsoConfig } from '../shared/sso-config.js';

export const SSO_NAME_PREFIX = 'sso:';
const NAME_MAX = 120;

export type Claims = Readonly<Record<string, unknown>>;

/** The claim's values as strings: a top-level claim of that exact name, else a dotted path into nested objects. */
export function claimValues(claims: Claims, name: string): string[] {
  let value: unknown = claims[name];
  if (value === undefined && name.includes('.')) {
    value = name.split('.').reduce<unknown>((at, key) => (at && typeof at === 'object' && !Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined), claims);
  }
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.filter((v): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v)).map(String);
}

/** The highest role any of the user's claim values maps to; the default role when none does; null: refused. */
export function roleFromClaims(claims: Claims, sso: Pick<SsoConfig, 'roleClaim' | 'roles' | 'defaultRole'>): OperatorRole | null {
  const values = new Set(claimValues(claims, sso.roleClaim));
  const granted = sso.roles.filter((r) => values.has(r.value)).map((r) => r.role);
  if (granted.length === 0) return sso.defaultRole ?? null;
  return granted.reduce((best, r) => (OPERATOR_ROLES.indexOf(r) > OPERATOR_ROLES.indexOf(best) ? r : best));
}

function clean(v: unknown): string {
  return typeof v === 'string' ? v.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, NAME_MAX) : '';
}

/** `sso:<preferred_username | email | sub>`; null when the provider named the user by none of them. */
export function operatorNameFromClaims(claims: Claims): string | null {
  const who = clean(claims.preferred_username) || clean(claims.email) || clean(claims.sub);
  return who ? `${SSO_NAME_PREFIX}${who}` : null;
}
