// The api role as serve builds it (buildApiServer, real Redis under a random prefix, a temporary
// TETHER_HOME with real signing and relay host keys), driven in memory with app.inject. Operators of
// each role get personal tokens; calls carry a bearer token or a console cookie and CSRF header.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApiServer, type ApiDeps } from '../../../api/api-server.js';
import { loadServerConfig, type ServerConfig } from '../../../shared/config.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey, type SigningKey } from '../../../shared/key/key-files.js';
import { createLogger } from '../../../shared/logger.js';
import type { OperatorRole } from '../../../shared/operator-role.js';
import { issueKey, type IssuedKey } from '../../../shared/session/issue-key.js';
import type { AuditEntry } from '../../../shared/store/audit.store.js';
import { RedisAuditLog } from '../../../shared/store/redis-audit.store.js';
import { CredentialStore, credentialSecretFrom } from '../../../shared/store/credential.store.js';
import { OperatorStore } from '../../../shared/store/operator.store.js';
import { RedisSessionStore } from '../../../shared/store/redis-session.store.js';
import { deletePrefix, randomPrefix } from '../../helpers/redis-prefix.js';

export const ADMIN_TOKEN = 'api-test-admin-token-0123456789abcdef';

export interface Who {
  /** Bearer token. */
  token?: string;
  /** Console session cookie value, and the CSRF header to send with it. */
  cookie?: string;
  csrf?: string;
  /** Client address (the rate limit counts per address). */
  ip?: string;
}

export interface Answer {
  status: number;
  json: any;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface ApiHarness {
  app: FastifyInstance;
  redis: Redis;
  prefix: string;
  home: string;
  config: Readonly<ServerConfig>;
  signingKey: SigningKey;
  sessions: RedisSessionStore;
  audit: RedisAuditLog;
  operators: OperatorStore;
  credentials: CredentialStore;
  addOperator(name: string, role: OperatorRole): Promise<string>;
  call(method: string, url: string, who?: Who, body?: unknown): Promise<Answer>;
  /** Signs in to the console; returns the cookie value and CSRF token. */
  signIn(token: string, ip?: string): Promise<{ cookie: string; csrf: string }>;
  issue(serial: string, extra?: { ticket?: { system: string; id: string }; product?: 'sma' | 'sda' }): Promise<IssuedKey>;
  auditOf(type: string): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

export async function startApiHarness(redisUrl: string, extra: Partial<ApiDeps> = {}): Promise<ApiHarness> {
  const prefix = randomPrefix();
  const home = mkdtempSync(join(tmpdir(), 'tether-api-'));
  const config = loadServerConfig({ TETHER_HOME: home, REDIS_URL: redisUrl, TETHER_REDIS_PREFIX: prefix, TETHER_ADMIN_TOKEN: ADMIN_TOKEN, TETHER_LOG_LEVEL: 'silent' });
  const redis = new Redis(redisUrl);
  const signingKey = loadOrCreateSigningKey(home);
  const hostKey = loadOrCreateRelayHostKey(home);
  const relay = { host: 'relay.tether.test', port: 2222, fingerprint: hostKey.fingerprint };
  const app = await buildApiServer({
    config,
    redis,
    prefix,
    logger: createLogger('api-test', 'silent'),
    oneClick: { signingKey, relay },
    relayHostKeyLine: hostKey.publicLine,
    ...extra,
  });
  await app.ready();
  const sessions = new RedisSessionStore(redis, prefix);
  const audit = new RedisAuditLog(redis, prefix);
  const operators = new OperatorStore(redis, prefix);
  const credentials = new CredentialStore(redis, prefix, credentialSecretFrom(signingKey.privateKey));

  const call = async (method: string, url: string, who: Who = {}, body?: unknown): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (who.token) headers.authorization = `Bearer ${who.token}`;
    if (who.cookie) headers.cookie = `tether_session=${who.cookie}`;
    if (who.csrf) headers['x-csrf-token'] = who.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      ...(who.ip ? { remoteAddress: who.ip } : {}),
    });
    let json: unknown = null;
    try {
      json = res.body ? JSON.parse(res.body) : null;
    } catch {
      json = res.body;
    }
    return { status: res.statusCode, json, headers: res.headers };
  };

  return {
    app,
    redis,
    prefix,
    home,
    config,
    signingKey,
    sessions,
    audit,
    operators,
    credentials,
    async addOperator(name, role) {
      return (await operators.add(name, role, 'test', Date.now())).token;
    },
    call,
    async signIn(token, ip) {
      const res = await call('POST', '/v1/console/session', ip ? { ip } : {}, { token });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(res.json)}`);
      const setCookie = [res.headers['set-cookie']].flat().find((c) => String(c).startsWith('tether_session='));
      const cookie = /^tether_session=([^;]+)/.exec(String(setCookie))?.[1];
      if (!cookie) throw new Error('no session cookie');
      return { cookie, csrf: res.json.csrf as string };
    },
    issue(serial, more = {}) {
      return issueKey(
        { serial, product: more.product ?? 'sma', ttlMs: 3_600_000, actor: 'test', ...(more.ticket ? { ticket: more.ticket } : {}) },
        { sessions, signingKey, relay, now: Date.now, credentials },
      );
    },
    async auditOf(type) {
      return (await audit.list()).filter((e) => e.type === type);
    },
    async close() {
      await app.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
