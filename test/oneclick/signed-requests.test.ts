// The appliance API's request signatures and enrolment tokens, over real HTTP against the API
// (buildApiServer on 127.0.0.1:0) with real Redis: wrong key, altered body, stale or future
// timestamp, replayed nonce and unknown serial are all 401 and change nothing; a token enrols once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApiServer } from '../../api/api-server.js';
import { loadServerConfig } from '../../shared/config.js';
import { loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import { generateIdentityKeys, rawPublicKey } from '../../shared/key/sealing.js';
import { createLogger } from '../../shared/logger.js';
import { RedisApplianceStore } from '../../shared/store/redis-appliance.store.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';
import { startCommentServer, type CommentServer } from '../pipeline/helpers/comment-server.js';
import { RELAY } from '../pipeline/helpers/relay-endpoint.js';
import { payloadOf, send, signed, type SentRequest } from './helpers/appliance-requests.js';

const SECRET = 'signed-requests-secret-0123456789';
const prefix = randomPrefix();
let home: string;
let redis: Redis;
let api: FastifyInstance;
let apiUrl: string;
let comments: CommentServer;
let appliances: RedisApplianceStore;
let sessions: RedisSessionStore;
let audit: RedisAuditLog;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tether-signed-'));
  comments = await startCommentServer(SECRET);
  const config = loadServerConfig({
    TETHER_HOME: home,
    REDIS_URL: inject('redisUrl'),
    TETHER_REDIS_PREFIX: prefix,
    TETHER_WEBHOOK_SECRET: SECRET,
    TETHER_TICKET_COMMENT_URL: comments.url,
    TETHER_LOG_LEVEL: 'silent',
  });
  redis = new Redis(inject('redisUrl'));
  api = await buildApiServer({ config, redis, prefix, logger: createLogger('signed-test', 'silent'), oneClick: { signingKey: loadOrCreateSigningKey(home), relay: RELAY } });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.server.address();
  apiUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  appliances = new RedisApplianceStore(redis, prefix);
  sessions = new RedisSessionStore(redis, prefix);
  audit = new RedisAuditLog(redis, prefix);
});

afterAll(async () => {
  await api?.close();
  await comments?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  rmSync(home, { recursive: true, force: true });
});

function identity() {
  const keys = generateIdentityKeys();
  return { ...keys, signPub: rawPublicKey(keys.signKey).toString('base64url'), sealPub: rawPublicKey(keys.sealKey).toString('base64url') };
}

async function enrolRequest(serial: string, id: ReturnType<typeof identity>, token: string, signKey = id.signKey): Promise<SentRequest> {
  return signed(signKey, 'POST', '/v1/appliances/enroll', { token, serial, product: 'sma', version: '10.2', signPub: id.signPub, sealPub: id.sealPub });
}

async function enrolled(serial: string) {
  const id = identity();
  const { token } = await appliances.issueToken(serial, 60_000, Date.now());
  const r = await send(apiUrl, await enrolRequest(serial, id, token));
  expect(r.status).toBe(201);
  return id;
}

describe('enrolment tokens', () => {
  it('enrol once; the same token again is refused and the identity on record stays', async () => {
    const serial = 'SIG-ENROL1';
    const { token } = await appliances.issueToken(serial, 60_000, Date.now());
    const first = identity();
    expect((await send(apiUrl, await enrolRequest(serial, first, token))).status).toBe(201);
    expect(await appliances.get(serial)).toMatchObject({ serial, product: 'sma', version: '10.2', signPub: first.signPub, sealPub: first.sealPub });

    const second = identity();
    const reused = await send(apiUrl, await enrolRequest(serial, second, token));
    expect(reused.status).toBe(401);
    expect(reused.json.error?.code).toBe('enrolment_token_invalid');
    expect((await appliances.get(serial))?.signPub).toBe(first.signPub);
  });

  it('a request not signed by the identity it registers is refused and leaves the token usable', async () => {
    const serial = 'SIG-ENROL2';
    const { token } = await appliances.issueToken(serial, 60_000, Date.now());
    const id = identity();
    const forged = await send(apiUrl, await enrolRequest(serial, id, token, identity().signKey));
    expect(forged.status).toBe(401);
    expect(forged.json.error?.code).toBe('unauthorized');
    expect(await appliances.get(serial)).toBeNull();
    expect((await send(apiUrl, await enrolRequest(serial, id, token))).status).toBe(201);
  });

  it('a token presented with the wrong serial is refused with a one-line reason and still enrols its own serial, once', async () => {
    const serial = 'SIG-ENROL5';
    const { token } = await appliances.issueToken(serial, 60_000, Date.now());
    const wrong = await send(apiUrl, await enrolRequest('SIG-ENROL5X', identity(), token));
    expect(wrong.status).toBe(401);
    expect(wrong.json.error?.code).toBe('enrolment_token_invalid');
    expect(wrong.json.error?.message).toMatch(/issued for another serial/);
    expect(wrong.json.error?.message).not.toMatch(/\n/);
    expect(await appliances.get('SIG-ENROL5X')).toBeNull();
    const refusals = (await audit.list()).filter((e) => e.type === 'appliance.enrol_refused' && e.fields.serial === 'SIG-ENROL5X');
    expect(refusals).toHaveLength(1);

    const right = identity();
    expect((await send(apiUrl, await enrolRequest(serial, right, token))).status).toBe(201);
    expect((await appliances.get(serial))?.signPub).toBe(right.signPub);

    const reused = await send(apiUrl, await enrolRequest(serial, identity(), token));
    expect(reused.status).toBe(401);
    expect(reused.json.error?.code).toBe('enrolment_token_invalid');
    expect(reused.json.error?.message).toMatch(/unknown or already used/);
    expect((await appliances.get(serial))?.signPub).toBe(right.signPub);
  });

  it('refuses an expired token and a token issued for another serial', async () => {
    const expired = await appliances.issueToken('SIG-ENROL3', 60_000, Date.now() - 120_000);
    expect((await send(apiUrl, await enrolRequest('SIG-ENROL3', identity(), expired.token))).json.error?.code).toBe('enrolment_token_invalid');
    const other = await appliances.issueToken('SIG-OTHER', 60_000, Date.now());
    expect((await send(apiUrl, await enrolRequest('SIG-ENROL4', identity(), other.token))).json.error?.code).toBe('enrolment_token_invalid');
    expect(await appliances.get('SIG-ENROL3')).toBeNull();
    expect(await appliances.get('SIG-ENROL4')).toBeNull();
  });
});

describe('signed appliance requests', () => {
  const serial = 'SIG-APPL01';
  let id: ReturnType<typeof identity>;
  const tether = `/v1/appliances/${serial}/tether`;
  const version = `/v1/appliances/${serial}/version`;

  const snapshot = async () => ({
    record: await appliances.get(serial),
    sessions: (await sessions.list()).filter((x) => x.serial === serial).length,
    tickets: comments.comments.length,
    oneClicks: (await audit.list()).filter((e) => e.type === 'appliance.oneclick').length,
  });

  beforeAll(async () => {
    id = await enrolled(serial);
  });

  it('refuses a wrong key, an altered body, stale and future timestamps and missing headers with 401, changing nothing', async () => {
    const before = await snapshot();
    const body = { description: 'inventory page is blank' };
    const altered = signed(id.signKey, 'POST', tether, body);
    altered.body = JSON.stringify({ description: 'something else entirely' });
    const noHeaders = signed(id.signKey, 'PUT', version, { version: '10.3' });
    noHeaders.headers = {};
    const refused: [string, SentRequest][] = [
      ['wrong key', signed(identity().signKey, 'POST', tether, body)],
      ['wrong key (version)', signed(identity().signKey, 'PUT', version, { version: '10.3' })],
      ['altered body', altered],
      ['stale timestamp', signed(id.signKey, 'POST', tether, body, Date.now() - 10 * 60_000)],
      ['future timestamp', signed(id.signKey, 'PUT', version, { version: '10.3' }, Date.now() + 10 * 60_000)],
      ['signed for another path', { ...signed(id.signKey, 'PUT', `/v1/appliances/SIG-OTHER/version`, { version: '10.3' }), path: version }],
      ['missing headers', noHeaders],
    ];
    for (const [what, req] of refused) {
      const r = await send(apiUrl, req);
      expect({ what, status: r.status, code: r.json.error?.code }).toEqual({ what, status: 401, code: 'unauthorized' });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('accepts a request once and refuses its replay with 401', async () => {
    const report = signed(id.signKey, 'PUT', version, { version: '10.3' });
    expect((await send(apiUrl, report)).status).toBe(200);
    expect((await appliances.get(serial))?.version).toBe('10.3');
    const click = signed(id.signKey, 'POST', tether, { description: 'replay me' });
    const first = await send(apiUrl, click);
    expect(first.status).toBe(201);
    expect(payloadOf(first.json.key as string).sealed).toBeDefined();
    const after = await snapshot();
    expect(after).toMatchObject({ sessions: 1, oneClicks: 1 });

    for (const replay of [click, report]) {
      const r = await send(apiUrl, replay);
      expect(r.status).toBe(401);
      expect(r.json.error?.message).toMatch(/nonce was already used/);
    }
    expect(await snapshot()).toEqual(after);
  });

  it('refuses an unknown serial with 401', async () => {
    const r = await send(apiUrl, signed(id.signKey, 'GET', '/v1/appliances/SIG-NOBODY/inbox', undefined));
    expect(r.status).toBe(401);
    expect(r.json.error?.message).toMatch(/not enrolled/);
  });
});
