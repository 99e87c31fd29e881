// Who an SSO sign-in is (pure): the role from the configured claim (highest match wins, default or
// refusal otherwise), nested claims by dotted path, and a bounded `sso:` name.
import { describe, expect, it } from 'vitest';
import { claimValues, operatorNameFromClaims, roleFromClaims } from '../../api/sso-identity.js';

const rules = {
  roleClaim: 'groups',
  roles: [
    { value: 'tether-engineers', role: 'engineer' as const },
    { value: 'tether-admins', role: 'admin' as const },
  ],
  defaultRole: undefined,
};

describe('SSO identity', () => {
  it('gives the highest role any of the groups maps to', () => {
    expect(roleFromClaims({ groups: ['staff', 'tether-engineers', 'tether-admins'] }, rules)).toBe('admin');
    expect(roleFromClaims({ groups: 'tether-engineers' }, rules)).toBe('engineer');
  });

  it('refuses a user no rule matches, unless a default role is configured', () => {
    expect(roleFromClaims({ groups: ['marketing'] }, rules)).toBeNull();
    expect(roleFromClaims({}, rules)).toBeNull();
    expect(roleFromClaims({ groups: ['marketing'] }, { ...rules, defaultRole: 'viewer' })).toBe('viewer');
  });

  it('reads a claim named with dots as a whole first, then as a path into nested claims', () => {
    expect(claimValues({ realm_access: { roles: ['tether-admins'] } }, 'realm_access.roles')).toEqual(['tether-admins']);
    expect(claimValues({ 'https://vendor.example/groups': ['a'], https: { x: 1 } }, 'https://vendor.example/groups')).toEqual(['a']);
    expect(claimValues({ groups: [{ nested: 1 }, 'ok', 7] }, 'groups')).toEqual(['ok', '7']);
  });

  it('names the operator sso:<preferred_username>, else the email, else the subject, without control characters', () => {
    expect(operatorNameFromClaims({ sub: 's1', email: 'ada@vendor.example', preferred_username: 'ada' })).toBe('sso:ada');
    expect(operatorNameFromClaims({ sub: 's1', email: 'ada@vendor.example' })).toBe('sso:ada@vendor.example');
    expect(operatorNameFromClaims({ sub: 's1', preferred_username: ' \u0000\u001b ' })).toBe('sso:s1');
    expect(operatorNameFromClaims({ preferred_username: 'x'.repeat(500) })).toHaveLength(4 + 120);
    expect(operatorNameFromClaims({})).toBeNull();
  });
});
