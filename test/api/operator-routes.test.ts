// The operator API's route families over real Redis: sessions with filters and cursor paging, one
// session with its timeline and engineer channels from the audit stream, ssh-config, audit search,
// engineers, operators, enrolment tokens, help-desk status and the dev outbox.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { pipelineKeys } from '../../shared/store/redis-keys.js';
import { makeEngineerIdentity } from '../helpers/engineer-ssh.js';
import { startApiHarness } from './helpers/api-harness.js';
import { addOperatorPerRole, useApiHarness } from './helpers/api-fixture.js';

const h = useApiHarness();
let viewer: string, engineer: string, admin: string;
beforeAll(async () => ({ viewer, engineer, admin } = await addOperatorPerRole(h)));

/** Follows nextCursor to the end; returns every page's ids. */
async function allPages(path: string, field: string, idOf: (x: any) => string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await h.call('GET', `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`, { token: viewer });
    expect(res.status).toBe(200);
    pages.push(res.json[field].map(idOf));
    cursor = res.json.nextCursor;
  } while (cursor && pages.length < 50);
  return pages;
}

describe('sessions', () => {
  const ids: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      const { session } = await h.issue(`K1000-PAGE0${i}`, { product: i % 2 ? 'sda' : 'sma', ...(i === 3 ? { ticket: { system: 'generic', id: '4711' } } : {}) });
      ids.push(session.id);
    }
    await h.sessions.activate(ids[1]!, Buffer.alloc(32, 7), { actor: 'relay', now: Date.now(), relayId: 'r1' });
  });

  it('lists newest first in pages that end with nextCursor null, sessions of the same second included once each', async () => {
    const pages = await allPages('/v1/sessions?limit=2', 'sessions', (s) => s.id);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    // Issue times have second resolution: within one second the order is the index's (by id, descending).
    expect(pages.flat()).toEqual(await h.redis.zrevrange(`${h.prefix}sessions`, 0, -1));
    expect([...pages.flat()].sort()).toEqual([...ids].sort());
  });

  it('filters by state, serial (any case), ticket and product', async () => {
    const get = async (q: string) => (await h.call('GET', `/v1/sessions?${q}`, { token: viewer })).json.sessions.map((s: { id: string }) => s.id);
    expect(await get('state=CONNECTED')).toEqual([ids[1]]);
    expect(await get('serial=k1000-page02')).toEqual([ids[2]]);
    expect(await get('ticket=generic:4711')).toEqual([ids[3]]);
    expect(await get('ticket=4711')).toEqual([ids[3]]);
    expect((await get('product=sda')).sort()).toEqual([ids[3], ids[1]].sort());
    expect((await h.call('GET', '/v1/sessions?state=OPEN', { token: viewer })).json.error.code).toBe('invalid_body');
    expect((await h.call('GET', '/v1/sessions?cursor=nonsense', { token: viewer })).status).toBe(400);
  });

  it('shows one session with its timeline and engineer channels from the audit stream', async () => {
    const sid = ids[1]!;
    const now = Date.now();
    await h.audit.append('engineer.channel.opened', { engineer: 'eddie', sid, serial: 'K1000-PAGE01', port: 443 }, now);
    await h.audit.append('engineer.channel.opened', { engineer: 'eddie', sid, serial: 'K1000-PAGE01', port: 22 }, now + 1);
    await h.audit.append(
      'engineer.channel.closed',
      { engineer: 'eddie', sid, serial: 'K1000-PAGE01', port: 443, bytesToAppliance: 120, bytesFromAppliance: 4_096, durationMs: 1_000 },
      now + 1_000,
    );
    const res = await h.call('GET', `/v1/sessions/${sid}`, { token: viewer });
    expect(res.status).toBe(200);
    expect(res.json.session).toMatchObject({ id: sid, state: 'CONNECTED', serial: 'K1000-PAGE01' });
    expect(res.json.timeline.map((e: { type: string }) => e.type)).toEqual([
      'session.issued',
      'session.activated',
      'engineer.channel.opened',
      'engineer.channel.opened',
      'engineer.channel.closed',
    ]);
    expect(res.json.timeline[1]).toMatchObject({ actor: 'relay', sid, serial: 'K1000-PAGE01', fields: { from: 'ISSUED', to: 'CONNECTED' } });
    expect(res.json.timeline[2].actor).toBeNull();
    expect(res.json.channels).toEqual([
      { engineer: 'eddie', port: 443, openedAt: new Date(now).toISOString(), closedAt: new Date(now + 1_000).toISOString(), bytesIn: 120, bytesOut: 4_096 },
      { engineer: 'eddie', port: 22, openedAt: new Date(now + 1).toISOString() },
    ]);
  });

  it('gives a registered engineer the ssh-config with a command per port; an unregistered one gets 404, a viewer 403', async () => {
    const id = makeEngineerIdentity('eddie');
    expect((await h.call('POST', '/v1/engineers', { token: admin }, { name: 'eddie', pubkey: id.pubLine })).status).toBe(201);
    const res = await h.call('GET', `/v1/sessions/${ids[0]}/ssh-config?identity=${encodeURIComponent(id.keyFile)}`, { token: engineer });
    expect(res.status).toBe(200);
    expect(res.json.config).toContain('Host tether-relay');
    expect(res.json.config).toContain('  User eddie');
    expect(res.json.config).toContain('  HostName relay.tether.test');
    expect(res.json.config).toContain(`  IdentityFile ${id.keyFile}`);
    expect(res.json.config).toMatch(/KnownHostsCommand \/bin\/echo tether-relay ssh-ed25519 AAAA/);
    expect(res.json.commands).toEqual([
      { port: 22, command: 'ssh -J tether-relay kace_support@K1000-PAGE00' },
      { port: 80, command: 'ssh -N -L 8080:K1000-PAGE00:80 tether-relay' },
      { port: 443, command: 'ssh -N -L 8443:K1000-PAGE00:443 tether-relay' },
      { port: 3306, command: 'ssh -N -L 13306:K1000-PAGE00:3306 tether-relay' },
    ]);
    expect((await h.call('GET', `/v1/sessions/${ids[0]}/ssh-config?engineer=nobody`, { token: engineer })).json.error.code).toBe('engineer_not_found');
    expect((await h.call('GET', `/v1/sessions/${ids[0]}/ssh-config`, { token: viewer })).status).toBe(403);
  });

  it('extends with the admin as actor and refuses past the 12-week cap', async () => {
    const res = await h.call('POST', `/v1/sessions/${ids[4]}/extend`, { token: admin }, { ttl: '2d' });
    expect(res.status).toBe(200);
    expect(Date.parse(res.json.session.expiresAt) - Date.now()).toBeGreaterThan(2 * 86_400_000 - 5_000);
    expect((await h.call('POST', `/v1/sessions/${ids[4]}/extend`, { token: admin }, { ttl: '13w' })).json.error.code).toBe('ttl_too_long');
    const extended = (await h.auditOf('session.extended')).filter((e) => e.fields.sid === ids[4]);
    expect(extended.map((e) => e.fields.actor)).toEqual(['ada']);
  });

  it('an extension moves the expiry of the support password held for the session with it', async () => {
    const { session } = await h.issue('K1000-EXTPW');
    await h.credentials.put(session.id, 'held-password-1', session.expiresAt, Date.now());
    const custody = `${h.prefix}custody:pw:${session.id}`;
    expect(await h.redis.pttl(custody)).toBeLessThanOrEqual(3_600_000);
    expect((await h.call('POST', `/v1/sessions/${session.id}/extend`, { token: admin }, { ttl: '2d' })).status).toBe(200);
    const expiresAt = (await h.sessions.require(session.id)).expiresAt;
    expect(Math.abs(Date.now() + (await h.redis.pttl(custody)) - expiresAt)).toBeLessThan(5_000);
    expect(await h.credentials.reveal(session.id)).toBe('held-password-1');
    // A session with no password held gets none by being extended.
    const bare = (await h.issue('K1000-EXTNOPW')).session;
    expect((await h.call('POST', `/v1/sessions/${bare.id}/extend`, { token: admin }, { ttl: '2d' })).status).toBe(200);
    expect(await h.credentials.holds(bare.id)).toBe(false);
  });
});

describe('audit search', () => {
  it('pages newest first and filters by type prefix, session and actor', async () => {
    const total = (await h.audit.list()).length;
    const pages = await allPages('/v1/audit?limit=4', 'entries', (e) => e.id);
    expect(pages.flat()).toHaveLength(total);
    expect(pages.flat()).toEqual((await h.audit.list()).map((e) => e.id).reverse());
    const issued = (await h.call('GET', '/v1/audit?type=session.issued&limit=100', { token: viewer })).json.entries;
    expect(issued.length).toBeGreaterThanOrEqual(5);
    const prefixed = (await h.call('GET', '/v1/audit?type=engineer.*&limit=100', { token: viewer })).json.entries;
    expect(new Set(prefixed.map((e: { type: string }) => e.type))).toEqual(new Set(['engineer.channel.opened', 'engineer.channel.closed', 'engineer.added']));
    const byAda = (await h.call('GET', '/v1/audit?actor=ada&limit=100', { token: viewer })).json.entries;
    expect(byAda.length).toBeGreaterThan(0);
    expect(byAda.every((e: { actor: string }) => e.actor === 'ada')).toBe(true);
  });
});

describe('engineers, operators, appliances', () => {
  it('adds and removes engineers as an admin (audited), lists them for a viewer, refuses a viewer adding', async () => {
    const id = makeEngineerIdentity('zoe');
    expect((await h.call('POST', '/v1/engineers', { token: viewer }, { name: 'zoe', pubkey: id.pubLine })).status).toBe(403);
    const added = await h.call('POST', '/v1/engineers', { token: admin }, { name: 'zoe', pubkey: id.pubLine });
    expect(added).toMatchObject({ status: 201, json: { engineer: { name: 'zoe', keys: [{ type: 'ssh-ed25519', comment: 'zoe@test' }] } } });
    expect((await h.call('GET', '/v1/engineers', { token: viewer })).json.engineers.map((e: { name: string }) => e.name)).toEqual(['eddie', 'zoe']);
    expect((await h.call('POST', '/v1/engineers', { token: admin }, { name: 'zoe', pubkey: 'not a key at all, really' })).json.error.code).toBe('engineer_invalid_key');
    expect((await h.call('DELETE', '/v1/engineers/zoe', { token: admin })).json).toEqual({ removed: 'zoe' });
    expect((await h.call('DELETE', '/v1/engineers/zoe', { token: admin })).status).toBe(404);
    const audit = (await h.audit.list()).filter((e) => e.fields.engineer === 'zoe').map((e) => [e.type, e.fields.actor]);
    expect(audit).toEqual([
      ['engineer.added', 'ada'],
      ['engineer.removed', 'ada'],
    ]);
  });

  it('lets only admins see and add operators; the token in the answer works at once', async () => {
    expect((await h.call('GET', '/v1/operators', { token: engineer })).status).toBe(403);
    const added = await h.call('POST', '/v1/operators', { token: admin }, { name: 'olga', role: 'engineer' });
    expect(added).toMatchObject({ status: 201, json: { name: 'olga', role: 'engineer', token: expect.stringMatching(/^OT1\./) } });
    expect((await h.call('GET', '/v1/me', { token: added.json.token })).json.operator).toEqual({ name: 'olga', role: 'engineer' });
    expect((await h.call('POST', '/v1/operators', { token: admin }, { name: 'olga', role: 'viewer' })).status).toBe(409);
    expect((await h.call('POST', '/v1/operators', { token: admin }, { name: 'admin', role: 'viewer' })).status).toBe(400);
    const list = (await h.call('GET', '/v1/operators?limit=2', { token: admin })).json;
    expect(list.operators.map((o: { name: string }) => o.name)).toEqual(['ada', 'eddie']);
    expect(list.nextCursor).toBe('eddie');
    expect(JSON.stringify(list)).not.toMatch(/OT1\.|tokenHash/);
    const added2 = (await h.auditOf('operator.added')).find((e) => e.fields.operator === 'olga');
    expect(added2?.fields).toMatchObject({ role: 'engineer', actor: 'ada' });
  });

  it('issues an enrolment token to an admin (audited), refuses a viewer, lists enrolled appliances for a viewer', async () => {
    expect((await h.call('POST', '/v1/appliances/tokens', { token: viewer }, { serial: 'K1000-ENROL1' })).status).toBe(403);
    const res = await h.call('POST', '/v1/appliances/tokens', { token: admin }, { serial: 'K1000-ENROL1', ttl: '10m' });
    expect(res).toMatchObject({ status: 201, json: { token: expect.stringMatching(/^ET1\./) } });
    expect(Date.parse(res.json.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    expect((await h.call('POST', '/v1/appliances/tokens', { token: admin }, { serial: 'K1000-ENROL1', ttl: '2d' })).json.error.code).toBe('usage');
    const audit = (await h.auditOf('appliance.token_issued')).map((e) => e.fields);
    expect(audit).toEqual([expect.objectContaining({ serial: 'K1000-ENROL1', actor: 'ada' })]);
    expect((await h.call('GET', '/v1/appliances', { token: viewer })).json).toEqual({ appliances: [], nextCursor: null });
  });
});

describe('help desks and outbox', () => {
  it('reports each help desk: configured or not, what is missing, the last remembered delivery, failures', async () => {
    const at = Date.now() - 60_000;
    await h.redis.set(pipelineKeys(h.prefix).webhookDelivery('generic', 'evt-1'), String(at));
    const res = await h.call('GET', '/v1/help-desks', { token: viewer });
    expect(res.status).toBe(200);
    expect(res.json.helpDesks.map((d: { system: string }) => d.system)).toEqual(['generic', 'zendesk', 'jira', 'servicenow', 'freshdesk', 'github']);
    expect(res.json.helpDesks[0]).toEqual({
      system: 'generic',
      configured: false,
      comments: false,
      missing: ['TETHER_WEBHOOK_SECRET', 'TETHER_TICKET_COMMENT_URL'],
      lastDelivery: new Date(at).toISOString(),
      failures: 0,
      lastFailure: null,
    });
    expect(res.json.helpDesks[2]).toMatchObject({ system: 'jira', configured: false, missing: ['TETHER_JIRA_WEBHOOK_SECRET', 'TETHER_JIRA_SERIAL_FIELD'], lastDelivery: null });
  });

  it('answers 404 for the outbox without the embedded SMTP capture', async () => {
    expect((await h.call('GET', '/v1/outbox', { token: admin })).json.error.code).toBe('not_found');
  });

  it('lists and shows captured mails to admins only when the capture runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-outbox-'));
    const dev = await startApiHarness(inject('redisUrl'), { outboxDir: dir });
    try {
      const mail = ['From: Tether <tether@tether.local>', 'To: it@customer.example', 'Subject: Tether key for K1000-MAIL', 'Date: Sat, 05 Dec 2026 10:00:00 +0000', '', 'Your key: KT1.x', ''].join('\r\n');
      writeFileSync(join(dir, '20261205T100000000Z-aaaa.eml'), mail);
      writeFileSync(join(dir, 'not-a-mail.txt'), 'x');
      const devAdmin = await dev.addOperator('ada', 'admin');
      const devViewer = await dev.addOperator('vera', 'viewer');
      expect((await dev.call('GET', '/v1/outbox', { token: devViewer })).status).toBe(403);
      const list = await dev.call('GET', '/v1/outbox', { token: devAdmin });
      expect(list.json).toEqual({
        mails: [{ file: '20261205T100000000Z-aaaa.eml', subject: 'Tether key for K1000-MAIL', from: 'Tether <tether@tether.local>', to: 'it@customer.example', date: 'Sat, 05 Dec 2026 10:00:00 +0000', size: mail.length }],
        nextCursor: null,
      });
      const one = await dev.call('GET', '/v1/outbox/20261205T100000000Z-aaaa.eml', { token: devAdmin });
      expect(one.json).toMatchObject({ subject: 'Tether key for K1000-MAIL', text: expect.stringContaining('Your key: KT1.x') });
      expect((await dev.call('GET', '/v1/outbox/..%2F..%2Fetc%2Fpasswd', { token: devAdmin })).status).toBe(400);
      expect((await dev.call('GET', '/v1/outbox/none.eml', { token: devAdmin })).status).toBe(404);
    } finally {
      await dev.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
