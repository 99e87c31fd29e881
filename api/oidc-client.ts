// The console's OpenID Connect client (openid-client): discovery of the provider on first use
// (retried on the next sign-in after a failure, so an unreachable provider never stops the api),
// the authorization URL with PKCE (S256), state and nonce, and the code exchange with the ID token's
// checks (issuer, audience, expiry, nonce). Claims missing from the ID token are read from userinfo.
import * as oidc from 'openid-client';
import type { SsoConfig } from '../shared/sso-config.js';
import type { Claims } from './sso-identity.js';

/** Seconds any one request to the provider may take. */
const PROVIDER_TIMEOUT_S = 10;

/** What the callback must present again: the PKCE verifier and the ID token's nonce. */
export interface SignInChecks {
  verifier: string;
  nonce: string;
}

/** A fresh PKCE verifier and nonce for one sign-in. */
export function newSignInChecks(): SignInChecks {
  return { verifier: oidc.randomPKCECodeVerifier(), nonce: oidc.randomNonce() };
}

export class OidcClient {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(private readonly sso: SsoConfig) {}

  private config(): Promise<oidc.Configuration> {
    this.configuration ??= oidc
      .discovery(new URL(this.sso.issuer), this.sso.clientId, undefined, oidc.ClientSecretBasic(this.sso.clientSecret), {
        timeout: PROVIDER_TIMEOUT_S,
        // Plain http only for a provider on loopback (config refuses it anywhere else).
        ...(this.sso.insecureLoopback ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((err: unknown) => {
        this.configuration = undefined;
        throw err;
      });
    return this.configuration;
  }

  /** Resolves once the provider's metadata is known; rejects when it cannot be read. */
  async ready(): Promise<void> {
    await this.config();
  }

  /** Where to send the browser: the authorization endpoint with PKCE (S256), state and nonce. */
  async authorizationUrl(redirectUri: string, state: string, checks: SignInChecks): Promise<string> {
    const config = await this.config();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.sso.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.verifier),
      code_challenge_method: 'S256',
      state,
      nonce: checks.nonce,
    });
    return url.href;
  }

  /**
   * Exchanges the code of `callbackUrl` (the redirect URL with the provider's query) and returns the
   * user's claims: the validated ID token's, completed from userinfo when `complete` says they are not.
   */
  async finish(callbackUrl: URL, checks: SignInChecks & { state: string }, complete: (claims: Claims) => boolean): Promise<Claims> {
    const config = await this.config();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: checks.verifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new Error('the provider returned no ID token');
    if (complete(idClaims)) return idClaims;
    // Many providers put profile and group claims in userinfo only; the ID token's own claims win.
    const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    return { ...info, ...idClaims };
  }
}
