// ServiceNow: our business rule's signature (base64 or hex HMAC over "<ts>.<body>"), incident
// states 6/7 as closed, the assignee our rule adds, and the sys_id the Table API needs carried in the
// ticket ref.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import { buildTicketAdapters, HELP_DESKS } from '../../ticketing/help-desks.js';
import { parseServiceNow, sysIdOf, verifyServiceNow } from '../../ticketing/servicenow/servicenow-webhook.js';
import { assigneesOf } from './helpers/assignees.js';
import { startVendorApi, type VendorApi } from './helpers/vendor-api.js';
import { signServiceNow, VENDOR_CASES } from './helpers/vendor-cases.js';

const SECRET = 'sn-webhook-secret-0123456789';
const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'servicenow', name), 'utf8'));
const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const DEFAULT_STATES = ['6', '7', '8'];

describe('ServiceNow webhook signature', () => {
  const body = Buffer.from(JSON.stringify(fixture('incident-updated.json')));

  it('accepts the base64 MAC GlideCertificateEncryption.generateMac returns, and the same MAC in hex', () => {
    const headers = lower(signServiceNow(SECRET, body));
    expect(verifyServiceNow(SECRET, headers, body, Date.now())).toEqual({ ok: true });
    const ts = headers['x-tether-timestamp']!;
    const hex = createHmac('sha256', SECRET).update(`${ts}.`).update(body).digest('hex');
    expect(verifyServiceNow(SECRET, { ...headers, 'x-tether-signature': `sha256=${hex}` }, body, Date.now())).toEqual({ ok: true });
  });

  it('refuses another secret, an altered body, a stale timestamp and a missing header', () => {
    expect(verifyServiceNow(SECRET, lower(signServiceNow('another-secret-0123456789', body)), body, Date.now())).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyServiceNow(SECRET, lower(signServiceNow(SECRET, body)), Buffer.concat([body, Buffer.from(' ')]), Date.now())).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyServiceNow(SECRET, lower(signServiceNow(SECRET, body, Date.now() - 6 * 60_000)), body, Date.now())).toMatchObject({ ok: false, reason: /stale/ });
    expect(verifyServiceNow(SECRET, {}, body, Date.now())).toEqual({ ok: false, reason: 'missing X-Tether-Signature header' });
  });
});

describe('ServiceNow incident mapping', () => {
  const parse = (patch: Record<string, unknown>, states = DEFAULT_STATES) => parseServiceNow(states, Buffer.from(JSON.stringify({ ...fixture('incident-updated.json'), ...patch })));

  it('carries the record\'s sys_id in the ticket ref, after the number people read', () => {
    const r = parse({});
    expect(r.ok && r.event.ticket).toEqual({ system: 'servicenow', id: 'INC0010023/9d385017c611228701d22104cc95c371' });
    expect(r.ok && r.event.deliveryId).toBe('9d385017c611228701d22104cc95c371-3');
    expect(sysIdOf('INC0010023/9d385017c611228701d22104cc95c371')).toBe('9d385017c611228701d22104cc95c371');
    expect(sysIdOf('INC0010023')).toBeNull();
  });

  it('reads states 6 (Resolved), 7 (Closed) and 8 (Canceled) as closed, the rest as open', () => {
    for (const state of ['6', '7', '8', 6]) expect((parse({ state }) as { event: { kind: string } }).event.kind).toBe('closed');
    for (const state of ['1', '2', '3']) expect((parse({ state }) as { event: { kind: string } }).event.kind).toBe('updated');
    expect((parse({ state: '1', event: 'created' }) as { event: { kind: string } }).event.kind).toBe('created');
  });

  it('follows an instance\'s own closed states (TETHER_SERVICENOW_CLOSED_STATES)', () => {
    expect((parse({ state: '106' }, ['106']) as { event: { kind: string } }).event.kind).toBe('closed');
    expect((parse({ state: '6' }, ['106']) as { event: { kind: string } }).event.kind).toBe('updated');
  });

  it('carries assigned_to\'s email and user_name as the assignee: both empty is null, a rule without them says nothing', () => {
    const results = [parse({}), parse({ assignee_email: '', assignee_login: '' }), parse({ assignee_email: undefined, assignee_login: undefined }), parse({ assignee_email: '' })];
    expect(assigneesOf(...results)).toEqual([{ email: 'erin@vendor.example', login: 'erin.agent' }, null, undefined, { login: 'erin.agent' }]);
  });

  it('refuses a record without a sys_id, since no comment could ever reach it', () => {
    expect(parse({ sys_id: 'INC0010023' })).toMatchObject({ ok: false, reason: /sys_id/ });
  });
});

describe('ServiceNow work notes need the sys_id', () => {
  let api: VendorApi;
  beforeAll(async () => {
    api = await startVendorApi(VENDOR_CASES.find((c) => c.system === 'servicenow')!.api);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('refuses, without any request, a ref that holds only the INC number; PATCHes the sys_id otherwise', async () => {
    const config = loadServerConfig({ ...VENDOR_CASES.find((c) => c.system === 'servicenow')!.env(api.url) }, HELP_DESKS);
    const adapter = buildTicketAdapters(config, { now: Date.now }).get('servicenow')!;
    const err = await adapter.addComment({ system: 'servicenow', id: 'INC0010023' }, { body: 'note', internal: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'usage', retryable: false, message: /sys_id/ });
    expect(api.requests).toHaveLength(0);
    await adapter.addComment({ system: 'servicenow', id: 'INC0010023/9d385017c611228701d22104cc95c371' }, { body: 'note', internal: true });
    expect(api.accepted.map((r) => [r.method, r.path, r.json])).toEqual([['PATCH', '/api/now/table/incident/9d385017c611228701d22104cc95c371', { work_notes: 'note' }]]);
  });
});
