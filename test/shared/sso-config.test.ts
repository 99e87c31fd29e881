// Console single sign-on settings: all or nothing, every problem named by its variable at start,
// an https issuer (plain http only on loopback), and the claim → role rules parsed.
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { parseSsoRoles } from '../../shared/sso-config.js';
import { configProblems, expectProblems } from '../helpers/config-problems.js';

const FULL = {
  TETHER_OIDC_ISSUER: 'https://login.vendor.example/realms/support',
  TETHER_OIDC_CLIENT_ID: 'tether-console',
  TETHER_OIDC_CLIENT_SECRET: 'client-secret-value',
  TETHER_OIDC_ROLES: 'tether-admins=admin, tether-engineers=engineer,/support/viewers=viewer',
};

describe('single sign-on configuration', () => {
  it('is off without TETHER_OIDC_* variables', () => {
    const config = loadServerConfig({});
    expect(config.sso).toBeUndefined();
    expect(config.publicUrl).toBeUndefined();
  });

  it('reads a full configuration with its defaults: groups claim, openid profile email, no default role', () => {
    const config = loadServerConfig({ ...FULL, TETHER_PUBLIC_URL: 'https://tether.vendor.example/' });
    expect(config.sso).toEqual({
      issuer: FULL.TETHER_OIDC_ISSUER,
      clientId: 'tether-console',
      clientSecret: 'client-secret-value',
      scopes: ['openid', 'profile', 'email'],
      roleClaim: 'groups',
      roles: [
        { value: 'tether-admins', role: 'admin' },
        { value: 'tether-engineers', role: 'engineer' },
        { value: '/support/viewers', role: 'viewer' },
      ],
      defaultRole: undefined,
      insecureLoopback: false,
    });
    expect(config.publicUrl).toBe('https://tether.vendor.example');
  });

  it('names every missing half of a partial configuration at start, and asks for a role mapping', () => {
    const msg = configProblems({ TETHER_OIDC_ISSUER: 'https://login.vendor.example' });
    expect(msg).toMatch(/^invalid configuration: /);
    expectProblems(msg, [
      'TETHER_OIDC_CLIENT_ID: required when other TETHER_OIDC_* variables are set',
      'TETHER_OIDC_CLIENT_SECRET: required when other TETHER_OIDC_* variables are set',
      'TETHER_OIDC_ROLES: required with single sign-on',
    ]);
    expect(msg).not.toContain('TETHER_OIDC_ISSUER:');
    // A mapping alone is a partial configuration too.
    expect(configProblems({ TETHER_OIDC_ROLES: 'a=admin' })).toContain('TETHER_OIDC_ISSUER: required when other TETHER_OIDC_* variables are set');
  });

  it('needs no mapping when every signed-in user may be a viewer', () => {
    const { TETHER_OIDC_ROLES: _, ...noRoles } = FULL;
    expect(loadServerConfig({ ...noRoles, TETHER_OIDC_DEFAULT_ROLE: 'viewer' }).sso).toMatchObject({ roles: [], defaultRole: 'viewer' });
  });

  it('refuses a plain-http issuer except on loopback, bad rules, scopes without openid and a default above viewer', () => {
    const msg = configProblems({
      ...FULL,
      TETHER_OIDC_ISSUER: 'http://login.vendor.example',
      TETHER_OIDC_ROLES: 'tether-admins=root,=viewer',
      TETHER_OIDC_SCOPES: 'profile email',
      TETHER_OIDC_DEFAULT_ROLE: 'admin',
      TETHER_PUBLIC_URL: 'ftp://tether.vendor.example',
    });
    expectProblems(msg, [
      'TETHER_OIDC_ISSUER: must be an https:// URL (http:// only on loopback',
      'TETHER_OIDC_ROLES: "tether-admins=root" is not VALUE=ROLE',
      'TETHER_OIDC_ROLES: "=viewer" is not VALUE=ROLE',
      'TETHER_OIDC_SCOPES: must include openid',
      'TETHER_OIDC_DEFAULT_ROLE:',
      'TETHER_PUBLIC_URL: must be an http:// or https:// URL',
    ]);
    expect(loadServerConfig({ ...FULL, TETHER_OIDC_ISSUER: 'http://127.0.0.1:9000' }).sso?.insecureLoopback).toBe(true);
  });

  it('splits rules at commas and each rule at its last "=", so a claim value may hold "="', () => {
    expect(parseSsoRoles('cn=ops=admin, team=dev=engineer')).toEqual({
      rules: [
        { value: 'cn=ops', role: 'admin' },
        { value: 'team=dev', role: 'engineer' },
      ],
      problems: [],
    });
    expect(parseSsoRoles('cn=ops').problems).toEqual(['"cn=ops" is not VALUE=ROLE with ROLE one of viewer, engineer, admin (e.g. tether-admins=admin,tether-engineers=engineer)']);
  });
});
