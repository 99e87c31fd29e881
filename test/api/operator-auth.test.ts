// Who may do what in the operator API, over real Redis with the api built as serve builds it:
// personal tokens by role, the break-glass admin token, unknown and query-string tokens refused,
// and refusals that change nothing (the session stays, the audit gains nothing).
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from './helpers/api-harness.js';
import { addOperatorPerRole, useApiHarness } from './helpers/api-fixture.js';

const h = useApiHarness();
let viewer: string, engineer: string, admin: string;
beforeAll(async () => ({ viewer, engineer, admin } = await addOperatorPerRole(h)));

describe('operator identities in the API', () => {
  it('answers 401 to an unknown bearer token, a missing one, and a token sent only in the query string', async () => {
    const unknown = await h.call('GET', '/v1/sessions', { token: 'OT1.not-a-real-token-at-all-0123456789' });
    expect(unknown).toMatchObject({ status: 401, json: { error: { code: 'unauthorized', message: 'missing or wrong bearer token' } } });
    expect((await h.call('GET', '/v1/sessions')).status).toBe(401);
    for (const name of ['token', 'access_token']) {
      expect((await h.call('GET', `/v1/sessions?${name}=${encodeURIComponent(viewer)}`)).status).toBe(401);
    }
    expect((await h.call('GET', `/v1/me?token=${encodeURIComponent(ADMIN_TOKEN)}`)).json.error.code).toBe('unauthorized');
  });

  it('names the caller in GET /v1/me: personal tokens by role, TETHER_ADMIN_TOKEN as the break-glass admin', async () => {
    expect((await h.call('GET', '/v1/me', { token: viewer })).json).toEqual({ operator: { name: 'vera', role: 'viewer' } });
    expect((await h.call('GET', '/v1/me', { token: engineer })).json).toEqual({ operator: { name: 'eddie', role: 'engineer' } });
    expect((await h.call('GET', '/v1/me', { token: ADMIN_TOKEN })).json).toEqual({ operator: { name: 'admin', role: 'admin' } });
  });

  it('refuses a viewer revoking with 403 and a one-line reason, and changes nothing', async () => {
    const { session } = await h.issue('K1000-VIEWER1');
    const before = (await h.audit.list()).length;
    const res = await h.call('POST', `/v1/sessions/${session.id}/revoke`, { token: viewer }, {});
    expect(res).toMatchObject({ status: 403, json: { error: { code: 'forbidden', message: 'viewer may not revoke sessions: needs admin' } } });
    expect((await h.sessions.require(session.id)).state).toBe('ISSUED');
    expect((await h.audit.list()).length).toBe(before);
    // An engineer may not either; an admin may, and the audit names the admin.
    expect((await h.call('POST', `/v1/sessions/${session.id}/revoke`, { token: engineer }, {})).status).toBe(403);
    const revoked = await h.call('POST', `/v1/sessions/${session.id}/revoke`, { token: admin }, {});
    expect(revoked).toMatchObject({ status: 200, json: { session: { id: session.id, state: 'CLOSED', reason: 'revoked' } } });
    const closed = (await h.auditOf('session.closed')).filter((e) => e.fields.sid === session.id);
    expect(closed.map((e) => e.fields.actor)).toEqual(['ada']);
  });

  it('lets an engineer reveal the support password, audited with the engineer as actor; a viewer is refused and nothing is audited', async () => {
    const { session } = await h.issue('K1000-REVEAL1');
    const refused = await h.call('POST', `/v1/sessions/${session.id}/credentials`, { token: viewer }, {});
    expect(refused).toMatchObject({ status: 403, json: { error: { code: 'forbidden', message: 'viewer may not reveal support passwords: needs engineer' } } });
    expect((await h.auditOf('credential.revealed')).filter((e) => e.fields.sid === session.id)).toEqual([]);

    // The password in custody, as a sealed key's generated one or an appliance's escrow leaves it.
    await h.credentials.put(session.id, 'Support-Pw-23456789abc', session.expiresAt, Date.now());
    const res = await h.call('POST', `/v1/sessions/${session.id}/credentials`, { token: engineer }, {});
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ serial: 'K1000-REVEAL1', user: 'kace_support', password: 'Support-Pw-23456789abc' });
    expect(res.headers['cache-control']).toBe('no-store');
    const revealed = (await h.auditOf('credential.revealed')).filter((e) => e.fields.sid === session.id);
    expect(revealed.map((e) => e.fields)).toEqual([{ sid: session.id, serial: 'K1000-REVEAL1', actor: 'eddie' }]);
  });

  it('lets an admin issue a key (201, shown once) with the admin as actor; an engineer is refused and no session appears', async () => {
    const body = { serial: 'K1000-KEYS01', product: 'sda', ttl: '2h', ticket: 'generic:4711' };
    const refused = await h.call('POST', '/v1/keys', { token: engineer }, body);
    expect(refused).toMatchObject({ status: 403, json: { error: { code: 'forbidden', message: 'engineer may not issue keys: needs admin' } } });
    expect(await h.sessions.findLiveBySerial('K1000-KEYS01')).toBeNull();

    const res = await h.call('POST', '/v1/keys', { token: admin }, body);
    expect(res.status).toBe(201);
    expect(res.json.key).toMatch(/^KT1\./);
    expect(res.json.session).toMatchObject({ serial: 'K1000-KEYS01', product: 'sda', state: 'ISSUED', ports: [22, 80, 443], ticket: { system: 'generic', id: '4711' } });
    expect(Date.parse(res.json.session.expiresAt) - Date.parse(res.json.session.issuedAt)).toBe(2 * 3_600_000);
    const issued = (await h.auditOf('session.issued')).find((e) => e.fields.sid === res.json.session.id);
    expect(issued?.fields.actor).toBe('ada');
    // Shown once: neither the session nor its detail carries the key again.
    expect(JSON.stringify((await h.call('GET', `/v1/sessions/${res.json.session.id}`, { token: viewer })).json)).not.toContain('KT1.');
  });

  it('refuses a viewer issuing a key with 403 and validates bodies with a one-line 400', async () => {
    expect((await h.call('POST', '/v1/keys', { token: viewer }, { serial: 'K1000-KEYS02', product: 'sma' })).status).toBe(403);
    const bad = await h.call('POST', '/v1/keys', { token: admin }, { serial: 'K1000-KEYS02', product: 'xyz' });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'invalid_body' } } });
    expect(bad.json.error.message).toMatch(/^body\.product: /);
  });

  it('stops accepting a removed operator at once', async () => {
    const token = await h.addOperator('gone', 'admin');
    expect((await h.call('GET', '/v1/me', { token })).status).toBe(200);
    const removed = await h.call('DELETE', '/v1/operators/gone', { token: admin });
    expect(removed).toMatchObject({ status: 200, json: { removed: 'gone' } });
    expect((await h.call('GET', '/v1/me', { token })).status).toBe(401);
    const audit = (await h.auditOf('operator.removed')).map((e) => e.fields);
    expect(audit).toContainEqual({ operator: 'gone', role: 'admin', actor: 'ada' });
  });
});
