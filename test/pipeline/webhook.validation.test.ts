// The generic webhook's refusals (signature, replay window, body, size) and the operator API over real HTTP.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jobIds } from '../../queues/job-ids.js';
import { QUEUE } from '../../queues/queue-names.js';
import { pipelineKeys } from '../../shared/store/redis-keys.js';
import { signGeneric } from '../../ticketing/generic-signature.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, postWebhook, startHarness, webhookBody, type Harness } from './helpers/pipeline-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl'), workers: false });
});
afterAll(async () => {
  await h?.close();
});

async function queuedTicketEvents(): Promise<number> {
  const counts = await h.producers.queue(QUEUE.ticketEvents).getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** A raw HTTP POST (fetch cannot be trusted to send a 10 MB body to a server that answers early). */
function rawPost(path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const url = new URL(h.apiUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('generic webhook validation', () => {
  const valid = () => webhookBody({ id: `evt-${Math.random().toString(36).slice(2)}` });

  it('refuses a webhook without signature headers with 401 and a reason', async () => {
    const r = await postWebhook(h.apiUrl, valid(), {});
    expect(r.status).toBe(401);
    expect(r.json.error).toEqual({ code: 'unauthorized', message: 'missing X-Tether-Signature header' });
  });

  it('refuses a wrong signature with 401', async () => {
    const body = JSON.stringify(valid());
    const r = await postWebhook(h.apiUrl, body, signGeneric('another-secret-of-16+chars', body, Date.now()));
    expect(r.status).toBe(401);
    expect(r.json.error?.message).toBe('bad signature');
  });

  it('refuses a signature over other bytes (the body was altered) with 401', async () => {
    const body = JSON.stringify(valid());
    const r = await postWebhook(h.apiUrl, body.replace('K1000', 'K2000'), signGeneric(WEBHOOK_SECRET, body, Date.now()));
    expect(r.status).toBe(401);
  });

  it('refuses a correctly signed but stale timestamp (6 minutes old) with 401', async () => {
    const body = JSON.stringify(valid());
    const r = await postWebhook(h.apiUrl, body, signGeneric(WEBHOOK_SECRET, body, Date.now() - 6 * 60_000));
    expect(r.status).toBe(401);
    expect(r.json.error?.message).toMatch(/stale timestamp/);
  });

  it('refuses signed malformed JSON with 400', async () => {
    const r = await postWebhook(h.apiUrl, '{"id": "evt-1", "type": ');
    expect(r.status).toBe(400);
    expect(r.json.error).toEqual({ code: 'invalid_body', message: 'body is not valid JSON' });
  });

  it('refuses a ticket without appliance serial with 400 naming the serial', async () => {
    const body = valid() as { ticket: { appliance: Record<string, unknown> } };
    delete body.ticket.appliance.serial;
    const r = await postWebhook(h.apiUrl, body);
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toMatch(/ticket\.appliance\.serial/);
  });

  it('refuses an unknown product with 400', async () => {
    const r = await postWebhook(h.apiUrl, webhookBody({ id: 'evt-product', product: 'kbox' }));
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toMatch(/unknown product "kbox"/);
  });

  it('refuses an unknown event type and a bad requester address with 400', async () => {
    expect((await postWebhook(h.apiUrl, { ...valid(), type: 'ticket.deleted' })).status).toBe(400);
    expect((await postWebhook(h.apiUrl, webhookBody({ id: 'evt-mail', email: 'not-an-address' }))).status).toBe(400);
  });

  it('refuses a 10 MB body with 413 before reading it', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const r = await rawPost('/v1/webhooks/generic', big, { 'content-type': 'application/json', ...signGeneric(WEBHOOK_SECRET, big, Date.now()) });
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ error: { code: 'body_too_large', message: 'request body is larger than the limit' } });
  });

  it('queued nothing for any refused webhook, and the server is still up', async () => {
    expect(await queuedTicketEvents()).toBe(0);
    const health = await fetch(`${h.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('accepts a signed webhook with 202, then answers its repeat with 200 duplicate', async () => {
    const body = webhookBody({ id: 'evt-accept-1' });
    const first = await postWebhook(h.apiUrl, body);
    expect(first).toEqual({ status: 202, json: { status: 'queued', id: 'evt-accept-1' } });
    const again = await postWebhook(h.apiUrl, body);
    expect(again).toEqual({ status: 200, json: { status: 'duplicate', id: 'evt-accept-1' } });
    expect(await queuedTicketEvents()).toBe(1);
  });

  it('a delivery noted as accepted but never queued (the API died in between) is queued on the retry; one noted a moment ago is a duplicate', async () => {
    const post = (body: string) => postWebhook(h.apiUrl, body, signGeneric(WEBHOOK_SECRET, body, Date.now()));
    const noteAccepted = (id: string, agoMs: number) => h.redis.set(pipelineKeys(h.prefix).webhookDelivery('generic', id), String(Date.now() - agoMs), 'EX', 3_600);
    // What a dying API left a minute ago: the id noted, no job.
    const lost = JSON.stringify(webhookBody({ id: `evt-lost-${Math.random().toString(36).slice(2)}` }));
    await noteAccepted(JSON.parse(lost).id, 60_000);
    const before = await queuedTicketEvents();
    expect(await post(lost)).toMatchObject({ status: 202, json: { status: 'queued' } });
    expect(await queuedTicketEvents()).toBe(before + 1);
    // Queued now, and noted so: the next retry is a duplicate, even once its finished job is gone
    // (only the newest 50,000 are kept).
    const lostId = JSON.parse(lost).id as string;
    expect(await h.redis.get(pipelineKeys(h.prefix).webhookDelivery('generic', lostId))).toMatch(/^q\d+$/);
    await (await h.producers.queue(QUEUE.ticketEvents).getJob(jobIds.ticketEvent('generic', lostId)))!.remove();
    expect(await post(lost)).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    expect(await queuedTicketEvents()).toBe(before);
    // Noted a second ago by an API that may still be queueing it: a duplicate, nothing queued here.
    const busy = JSON.stringify(webhookBody({ id: `evt-busy-${Math.random().toString(36).slice(2)}` }));
    await noteAccepted(JSON.parse(busy).id, 1_000);
    expect(await post(busy)).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    expect(await queuedTicketEvents()).toBe(before);
  });
});

describe('operator API', () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) => {
    const res = await fetch(`${h.apiUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };

  it('refuses requests without or with a wrong bearer token', async () => {
    expect((await call('GET', '/v1/sessions', undefined, {})).json).toEqual({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } });
    expect((await call('GET', '/v1/sessions', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('lists, shows, extends within the cap, refuses past the cap, revokes once', async () => {
    const { issueKey } = await import('../../shared/session/issue-key.js');
    const { session } = await issueKey(
      { serial: 'SN-API-1', product: 'sda', ttlMs: 3_600_000, actor: 'test' },
      { sessions: h.sessions, signingKey: h.signingKey, relay: { host: '127.0.0.1', port: 2222, fingerprint: 'SHA256:x' }, now: Date.now },
    );
    const list = await call('GET', '/v1/sessions');
    expect(list.json.sessions.map((s: { id: string }) => s.id)).toContain(session.id);
    const one = await call('GET', `/v1/sessions/${session.id}`);
    expect(one.json.session).toMatchObject({ id: session.id, serial: 'SN-API-1', state: 'ISSUED', ports: [22, 80, 443] });
    expect(JSON.stringify(one.json)).not.toMatch(/KT1\.|tunnelPub|jti/);

    const extended = await call('POST', `/v1/sessions/${session.id}/extend`, { ttl: '7d' });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.json.session.expiresAt) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 5_000);
    const tooLong = await call('POST', `/v1/sessions/${session.id}/extend`, { ttl: '13w' });
    expect(tooLong).toMatchObject({ status: 400, json: { error: { code: 'ttl_too_long' } } });
    const badTtl = await call('POST', `/v1/sessions/${session.id}/extend`, { ttl: 'soon' });
    expect(badTtl).toMatchObject({ status: 400, json: { error: { code: 'usage' } } });

    const revoked = await call('POST', `/v1/sessions/${session.id}/revoke`);
    expect(revoked.json.session).toMatchObject({ state: 'CLOSED', reason: 'revoked' });
    expect(await call('POST', `/v1/sessions/${session.id}/revoke`)).toMatchObject({ status: 409, json: { error: { code: 'session_closed' } } });
    expect(await call('POST', `/v1/sessions/${session.id}/extend`, { ttl: '1d' })).toMatchObject({ status: 409 });
  });

  it('answers 404 with a coded error for an unknown session and an unknown route', async () => {
    expect(await call('GET', '/v1/sessions/nosuchsession1')).toEqual({ status: 404, json: { error: { code: 'session_not_found', message: 'no session nosuchsession1' } } });
    expect((await call('GET', '/v1/nothing-here')).json.error.code).toBe('not_found');
  });
});
