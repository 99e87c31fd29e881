// The console under test: an in-process relay (test/relay/relay-harness.ts: real Redis under a
// random prefix, simulated appliances, stock OpenSSH engineers) and the api role built as serve
// builds it, on 127.0.0.1:0, sharing that prefix, with the dev outbox of an embedded SMTP capture.
// Operators of each role get personal tokens.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../api/api-server.js';
import { loadServerConfig } from '../../shared/config.js';
import { HELP_DESKS } from '../../ticketing/help-desks.js';
import { decodeKey } from '../../shared/key/key-codec.js';
import { loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import { createLogger } from '../../shared/logger.js';
import { createMailer, type Mailer } from '../../shared/mail/mailer.js';
import { createSmtpCapture, outboxDir, type SmtpCapture } from '../../shared/mail/smtp-capture.js';
import type { OperatorRole } from '../../shared/operator-role.js';
import { issueKey, type IssuedKey, type IssueRequest } from '../../shared/session/issue-key.js';
import { CredentialStore, credentialSecretFrom } from '../../shared/store/credential.store.js';
import { OperatorStore } from '../../shared/store/operator.store.js';
import { startHarness, type Harness } from '../relay/relay-harness.js';

export interface ConsoleOperator {
  name: string;
  role: OperatorRole;
  token: string;
}

export interface ConsoleSystem {
  relay: Harness;
  api: FastifyInstance;
  baseUrl: string;
  home: string;
  /** TETHER_ADMIN_TOKEN (break-glass). */
  adminToken: string;
  credentials: CredentialStore;
  operators: OperatorStore;
  addOperator(name: string, role: OperatorRole): Promise<ConsoleOperator>;
  /** Mints a key as the key-issue worker does for a ticket (issueKey), e.g. with the ticket's subject. */
  issue(req: Omit<IssueRequest, 'ttlMs' | 'actor'> & { ttlMs?: number; actor?: string }): Promise<IssuedKey>;
  /** Sends a mail into the dev outbox (the embedded SMTP capture the api reads). */
  mail: Mailer;
  /** JSON call to the operator API with a bearer token. */
  call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

/** The tunnel-credential seed a key carries (what the appliance logs in with). */
export function seedOf(key: string): Buffer {
  const cred = decodeKey(key).payload.cred;
  if (!cred) throw new Error('key carries no credential');
  return Buffer.from(cred, 'base64url');
}

export function sessionIdOf(key: string): string {
  return decodeKey(key).payload.sid;
}

/** `env`: more settings for the api (help desks, TETHER_OIDC_*), over the harness's own. */
export async function startConsoleSystem(redisUrl: string, opts: { env?: Record<string, string> } = {}): Promise<ConsoleSystem> {
  const relay = await startHarness(redisUrl, { heartbeatFlushMs: 100 });
  const home = mkdtempSync(join(tmpdir(), 'tether-console-'));
  const adminToken = randomBytes(24).toString('base64url');
  const config = loadServerConfig({
    TETHER_HOME: home,
    REDIS_URL: redisUrl,
    TETHER_REDIS_PREFIX: relay.prefix,
    TETHER_ADMIN_TOKEN: adminToken,
    TETHER_RELAY_PORT: String(relay.port),
    TETHER_LOG_LEVEL: 'silent',
    ...opts.env,
  }, HELP_DESKS);
  const signingKey = loadOrCreateSigningKey(home);
  const capture: SmtpCapture = createSmtpCapture({ outboxDir: outboxDir(home) });
  const smtp = await capture.start();
  const mail = createMailer({ smtpUrl: smtp.url, from: config.mailFrom, maxConnections: 0 });
  const relayEndpoint = { host: '127.0.0.1', port: relay.port, fingerprint: relay.hostKey.fingerprint };
  const api = await buildApiServer({
    config,
    redis: relay.redis,
    prefix: relay.prefix,
    logger: createLogger('console-test', 'silent'),
    oneClick: { signingKey, relay: relayEndpoint },
    relayHostKeyLine: relay.hostKey.publicLine,
    outboxDir: outboxDir(home),
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.server.address();
  const baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const operators = new OperatorStore(relay.redis, relay.prefix);
  return {
    relay,
    api,
    baseUrl,
    home,
    adminToken,
    credentials: new CredentialStore(relay.redis, relay.prefix, credentialSecretFrom(signingKey.privateKey)),
    operators,
    mail,
    issue(req) {
      return issueKey(
        { ttlMs: 3_600_000, actor: 'ticket:test', ...req },
        { sessions: relay.sessions, signingKey, relay: relayEndpoint, now: Date.now },
      );
    },
    async addOperator(name, role) {
      const { token } = await operators.add(name, role, 'test', Date.now());
      return { name, role, token };
    },
    async call(token, method, path, body) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
    async close() {
      await api.close();
      mail.close();
      await capture.close();
      await relay.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
