// A real OpenID provider for the SSO tests: the `oidc-provider` package on 127.0.0.1:0 with one
// static confidential client (client_secret_basic, code flow, PKCE required), accounts whose claims
// include a `groups` claim (only in userinfo, as the provider's conformant default puts scope
// claims there for the code flow), and its development login and consent pages. The issuer is
// `http://localhost:<port>`, so the console (on 127.0.0.1) and the provider are different sites,
// as in production.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestAccount {
  email: string;
  name: string;
  groups: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** By login name (what the development login form takes); change groups between sign-ins freely. */
  accounts: Map<string, TestAccount>;
  /** Starts serving with the client's one redirect URL (known only once the api listens). */
  serve(redirectUri: string): void;
  close(): Promise<void>;
}

export async function startTestProvider(accounts: Record<string, TestAccount>): Promise<TestProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(503).end('provider not ready');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const clientId = 'tether-console';
  const clientSecret = randomBytes(24).toString('base64url');
  const known = new Map(Object.entries(accounts));
  return {
    issuer,
    clientId,
    clientSecret,
    accounts: known,
    serve(redirectUri) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        pkce: { required: () => true },
        claims: {
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['preferred_username', 'name'],
          groups: ['groups'],
        },
        scopes: ['openid', 'groups'],
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        ttl: { Interaction: 600, Session: 3_600, Grant: 3_600, AccessToken: 600, IdToken: 600 },
        features: { devInteractions: { enabled: true } },
        async findAccount(_ctx, sub) {
          const a = known.get(sub);
          if (!a) return undefined;
          // Read at each call: a test may change the groups between sign-ins.
          return {
            accountId: sub,
            async claims() {
              const now = known.get(sub) ?? a;
              return { sub, preferred_username: sub, name: now.name, email: now.email, email_verified: true, groups: [...now.groups] };
            },
          };
        },
      });
      handler = provider.callback();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
