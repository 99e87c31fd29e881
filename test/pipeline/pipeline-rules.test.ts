// Unit tests of the pipeline's pure rules: no Redis, no network.
import { describe, expect, it } from 'vitest';
import type { TicketEvent } from '../../queues/ticket-event.schema.js';
import { applianceSteps, supportsOneClick } from '../../shared/mail/appliance-steps.js';
import { renderKeyMail, wrapKey } from '../../shared/mail/key-mail.template.js';
import { formatExpiry, humanDuration } from '../../shared/mail/mail-format.js';
import { keyFromMailText, parseMail } from '../../shared/mail/mail-parse.js';
import type { SessionRecord } from '../../shared/session/session.schema.js';
import { signGeneric, verifyGeneric } from '../../ticketing/generic-signature.js';
import { parseGenericWebhook } from '../../ticketing/generic-webhook.schema.js';
import { applianceReactionsTo } from '../../workers/appliance-reactions.js';
import { nextExpiryStep, planExpiry, reactionsTo } from '../../workers/session-reactions.js';
import { decideTicketEvent, STALE_CREATE } from '../../workers/ticket-events.worker.js';

const event = (over: Partial<TicketEvent> = {}): TicketEvent => ({
  kind: 'created',
  deliveryId: 'd1',
  ticket: { system: 'generic', id: '1' },
  requester: { email: 'a@b.example' },
  appliance: { serial: 'SN1', product: 'sma', version: '10.1' },
  tags: ['tether'],
  ...over,
});

const session = (over: Partial<SessionRecord> = {}): SessionRecord => ({
  id: 'sid-00000001',
  jti: 'jti-0000001',
  serial: 'SN1',
  product: 'sma',
  version: '10.1',
  state: 'ISSUED',
  reason: undefined,
  ports: [22],
  tunnelPub: 'x'.repeat(44),
  appliancePub: undefined,
  issuedAt: 1_000_000,
  expiresAt: 1_000_000 + 7 * 86_400_000,
  activatedAt: undefined,
  connectedAt: undefined,
  closedAt: undefined,
  ticket: { system: 'generic', id: '1' },
  email: 'a@b.example',
  relayId: undefined,
  ...over,
});

describe('ticket event decision', () => {
  it('provisions a tagged ticket without a live session, whatever the tag case', () => {
    expect(decideTicketEvent(event({ tags: ['Tether'] }), null)).toEqual({ action: 'provision' });
    expect(decideTicketEvent(event({ kind: 'updated' }), null)).toEqual({ action: 'provision' });
  });
  it('ignores untagged tickets and tickets that already have a live session', () => {
    expect(decideTicketEvent(event({ tags: [] }), null).action).toBe('ignore');
    expect(decideTicketEvent(event(), session()).action).toBe('ignore');
  });
  it('tears down the live session of a closed ticket, tag or not', () => {
    expect(decideTicketEvent(event({ kind: 'closed', tags: [] }), session())).toEqual({ action: 'teardown', sids: ['sid-00000001'] });
    expect(decideTicketEvent(event({ kind: 'closed' }), null).action).toBe('ignore');
  });
  it('tears down every live session of a closed ticket, the serial\'s and those issued under an earlier serial, once each', () => {
    const other = session({ id: 'sid-00000002', serial: 'K1000-OLD' });
    expect(decideTicketEvent(event({ kind: 'closed' }), session(), [other, session()])).toEqual({ action: 'teardown', sids: ['sid-00000001', 'sid-00000002'] });
    expect(decideTicketEvent(event({ kind: 'closed' }), null, [other])).toEqual({ action: 'teardown', sids: ['sid-00000002'] });
  });
  it('ignores a create that comes after the ticket\'s close: a ticket is created once, so it is a late retry', () => {
    const stale = { action: 'ignore', why: STALE_CREATE };
    expect(decideTicketEvent(event(), null, [], true)).toEqual(stale);
    expect(decideTicketEvent(event({ tags: [] }), null, [], true)).toEqual(stale);
    expect(decideTicketEvent(event(), null, [], false)).toEqual({ action: 'provision' });
  });
  it('provisions an update asking for a tether after the close as a reopen; a later close still tears down', () => {
    expect(decideTicketEvent(event({ kind: 'updated' }), null, [], true)).toEqual({ action: 'provision', reopens: true });
    expect(decideTicketEvent(event({ kind: 'updated', tags: [] }), null, [], true).action).toBe('ignore');
    expect(decideTicketEvent(event({ kind: 'closed' }), session(), [], true)).toEqual({ action: 'teardown', sids: ['sid-00000001'] });
  });
});

describe('expiry plan', () => {
  const s = { issuedAt: 0, expiresAt: 48 * 3_600_000 };
  it('warns at each offset before expiry, latest-first order, then expires at the deadline', () => {
    expect(planExpiry(s, [3_600_000, 86_400_000], 0)).toEqual([
      { kind: 'warn', runAt: s.expiresAt - 86_400_000, offsetMs: 86_400_000 },
      { kind: 'warn', runAt: s.expiresAt - 3_600_000, offsetMs: 3_600_000 },
      { kind: 'expire', runAt: s.expiresAt },
    ]);
  });
  it('skips warnings already past or before issue time', () => {
    expect(planExpiry(s, [86_400_000], 30 * 3_600_000).map((p) => p.kind)).toEqual(['expire']);
    expect(planExpiry({ issuedAt: 0, expiresAt: 3_600_000 }, [86_400_000], 0).map((p) => p.kind)).toEqual(['expire']);
  });
  it('queues one step at a time: the first, then after each warning the step that follows it', () => {
    const plan = planExpiry(s, [3_600_000, 86_400_000], 0);
    expect(nextExpiryStep(plan)).toEqual({ kind: 'warn', runAt: s.expiresAt - 86_400_000, offsetMs: 86_400_000 });
    expect(nextExpiryStep(plan, { offsetMs: 86_400_000 })).toEqual({ kind: 'warn', runAt: s.expiresAt - 3_600_000, offsetMs: 3_600_000 });
    expect(nextExpiryStep(plan, { offsetMs: 3_600_000 })).toEqual({ kind: 'expire', runAt: s.expiresAt });
    // A warning running a little before its time never queues itself again.
    const early = planExpiry(s, [3_600_000, 86_400_000], s.expiresAt - 86_400_000 - 5);
    expect(nextExpiryStep(early, { offsetMs: 86_400_000 }).offsetMs).toBe(3_600_000);
    // A warning that ran late, past the next one's time, goes straight to the expiry.
    expect(nextExpiryStep(planExpiry(s, [3_600_000, 86_400_000], s.expiresAt - 60_000), { offsetMs: 86_400_000 }).kind).toBe('expire');
  });
});

describe('reactions to audit entries', () => {
  const entry = (type: string, fields: Record<string, string> = {}) => ({ id: '1700000000000-0', type, at: 1_700_000_000_000, fields: { sid: 'sid-00000001', ...fields } });
  it('plans expiry on issue and on extension, from the current record', () => {
    expect(reactionsTo(entry('session.issued'), session(), { delivered: false })).toEqual([{ kind: 'plan-expiry' }]);
    expect(reactionsTo(entry('session.extended'), session(), { delivered: false })).toEqual([{ kind: 'plan-expiry' }]);
    expect(reactionsTo(entry('session.extended'), session({ state: 'CLOSED' }), { delivered: false })).toEqual([]);
  });
  it('comments and mails on activation, comments only on lost and reconnected, with ids from the entry', () => {
    const r = reactionsTo(entry('session.activated'), session(), { delivered: true });
    expect(r.map((x) => x.kind)).toEqual(['comment', 'notify']);
    expect(r.map((x) => ('jobId' in x ? x.jobId : ''))).toEqual(['re-1700000000000-0-comment', 're-1700000000000-0-connected']);
    expect(reactionsTo(entry('session.lost'), session(), { delivered: true }).map((x) => x.kind)).toEqual(['comment']);
    expect(reactionsTo(entry('session.lost'), session({ ticket: undefined }), { delivered: true })).toEqual([]);
  });
  it('on close cancels expiry and drops key text; tells ticket and customer only if the key reached them', () => {
    const delivered = reactionsTo(entry('session.closed', { reason: 'revoked' }), session({ state: 'CLOSED' }), { delivered: true });
    expect(delivered.map((x) => x.kind)).toEqual(['cancel-expiry', 'forget-key-text', 'comment', 'notify']);
    const unseen = reactionsTo(entry('session.closed', { reason: 'superseded' }), session({ state: 'CLOSED' }), { delivered: false });
    expect(unseen.map((x) => x.kind)).toEqual(['cancel-expiry', 'forget-key-text']);
  });
});

describe('appliance reactions to audit entries (from the lifecycle core)', () => {
  const entry = (type: string, fields: Record<string, string> = {}) => ({ id: '1700000000000-1', type, at: 1_700_000_000_000, fields: { sid: 'sid-00000001', serial: 'SN1', ...fields } });
  const ticket = { system: 'generic', id: '7' };
  it('an activation takes the key out of the inbox; nothing else', () => {
    expect(applianceReactionsTo(entry('session.activated', { from: 'ISSUED' }), session({ state: 'CONNECTED' }))).toEqual([{ kind: 'remove-from-inbox', serial: 'SN1' }]);
    expect(applianceReactionsTo(entry('session.reconnected', { from: 'LOST' }), session({ state: 'CONNECTED' }))).toEqual([]);
    expect(applianceReactionsTo(entry('session.extended'), session())).toEqual([]);
  });
  it('a close destroys the password and clears the inbox; the open one-click ticket only when the ticket closed it', () => {
    const closed = session({ state: 'CLOSED', ticket });
    expect(applianceReactionsTo(entry('session.closed', { from: 'CONNECTED', reason: 'revoked' }), closed)).toEqual([
      { kind: 'destroy-password' },
      { kind: 'remove-from-inbox', serial: 'SN1' },
    ]);
    expect(applianceReactionsTo(entry('session.closed', { from: 'CONNECTED', reason: 'ticket_closed' }), closed)).toEqual([
      { kind: 'destroy-password' },
      { kind: 'remove-from-inbox', serial: 'SN1' },
      { kind: 'forget-open-ticket', serial: 'SN1', ticket },
    ]);
    // Without a ticket there is no open ticket to forget.
    expect(applianceReactionsTo(entry('session.closed', { from: 'ISSUED', reason: 'ticket_closed' }), session({ state: 'CLOSED', ticket: undefined })).map((r) => r.kind)).toEqual(['destroy-password', 'remove-from-inbox']);
  });
  it('entries that are not session steps ask for nothing', () => {
    expect(applianceReactionsTo(entry('engineer.channel.opened'), session())).toEqual([]);
  });
});

describe('generic signature', () => {
  const secret = 'a-secret-of-at-least-16';
  it('verifies what it signs and refuses any change of body, secret or time', () => {
    const now = 1_700_000_000_000;
    const headers = Object.fromEntries(Object.entries(signGeneric(secret, '{"a":1}', now)).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifyGeneric(secret, headers, Buffer.from('{"a":1}'), now)).toEqual({ ok: true });
    expect(verifyGeneric(secret, headers, Buffer.from('{"a":2}'), now)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyGeneric('another-secret-16+', headers, Buffer.from('{"a":1}'), now).ok).toBe(false);
    expect(verifyGeneric(secret, headers, Buffer.from('{"a":1}'), now + 301_000)).toEqual({ ok: false, reason: 'stale timestamp: more than 5 minutes off' });
    expect(verifyGeneric(secret, { ...headers, 'x-tether-signature': 'sha256=zz' }, Buffer.from('{"a":1}'), now).ok).toBe(false);
  });
});

describe('generic webhook body', () => {
  it('maps the documented example to a TicketEvent', () => {
    const body = {
      id: 'evt-8f2c',
      type: 'ticket.created',
      ticket: {
        id: '4711', subject: 'Inventory page is blank', description: 'Since the upgrade the inventory page shows nothing.', status: 'open',
        requester: { email: 'it-ops@customer.example', name: 'IT Ops' }, tags: ['tether'],
        appliance: { serial: 'K1000-5F3A9C', product: 'sma', version: '10.1' },
      },
    };
    const r = parseGenericWebhook(Buffer.from(JSON.stringify(body)));
    expect(r).toEqual({
      ok: true,
      event: {
        kind: 'created', deliveryId: 'evt-8f2c', ticket: { system: 'generic', id: '4711' }, subject: 'Inventory page is blank',
        description: 'Since the upgrade the inventory page shows nothing.', status: 'open', requester: { email: 'it-ops@customer.example', name: 'IT Ops' },
        appliance: { serial: 'K1000-5F3A9C', product: 'sma', version: '10.1' }, tags: ['tether'],
      },
    });
  });
  it('names the offending field of a serial that breaks the serial rules', () => {
    const body = { id: 'e', type: 'ticket.created', ticket: { id: '1', requester: { email: 'a@b.example' }, appliance: { serial: 'bad serial!', product: 'SMA' } } };
    const r = parseGenericWebhook(Buffer.from(JSON.stringify(body)));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^ticket\.appliance\.serial: /);
  });
});

describe('mail wording', () => {
  it('knows which versions self-initiate', () => {
    expect([supportsOneClick('sma', '10.1'), supportsOneClick('sma', '10.2'), supportsOneClick('sma', '11'), supportsOneClick('sda', '6.0.9'), supportsOneClick('sda', '6.1')]).toEqual([false, true, true, false, true]);
    expect(supportsOneClick('sma', undefined)).toBeUndefined();
    expect(applianceSteps('sma', undefined).selfInitiate).toMatch(/If your appliance runs SMA 10\.2 or newer/);
  });
  it('states expiry and durations in plain words', () => {
    expect(humanDuration(7 * 86_400_000)).toBe('1 week');
    expect(humanDuration(90 * 60_000)).toBe('1 hour 30 minutes');
    expect(formatExpiry(Date.UTC(2025, 11, 5, 14, 30), Date.UTC(2025, 11, 4, 14, 30))).toBe('Friday, 5 December 2025, 14:30 UTC (in 1 day)');
  });
  it('puts the key on lines of its own that reassemble to the key', () => {
    const key = `KT1.${'A'.repeat(300)}.${'b'.repeat(86)}`;
    expect(wrapKey(key).every((l) => l.length <= 64)).toBe(true);
    const mail = renderKeyMail({ serial: 'SN1', product: 'sma', version: '10.1', key, issuedAt: 0, expiresAt: 3_600_000, now: 0 });
    expect(keyFromMailText(mail.text)).toBe(key);
    expect(mail.text).toMatch(/valid for 1 hour, until Thursday, 1 January 1970, 01:00 UTC/);
    expect(/[^\x00-\x7f]/.test(mail.text)).toBe(false);
  });
  it('reads quoted-printable and encoded-word mails', () => {
    const raw = 'Subject: =?UTF-8?Q?Tether_=E2=80=BA_key?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSettings =E2=80=BA Support=\r\n more\r\n';
    const m = parseMail(raw);
    expect(m.subject).toBe('Tether › key');
    expect(m.text).toBe('Settings › Support more\n');
  });
});
