// Zendesk's signature (timestamp + body, no separator, base64) and the mapping of our trigger template,
// the assignee's address included.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseZendesk, verifyZendesk } from '../../ticketing/zendesk/zendesk-webhook.js';
import { assigneesOf } from './helpers/assignees.js';
import { signZendesk, zendeskTimestamp } from './helpers/vendor-cases.js';

const SECRET = 'zd-signing-secret-0123456789abcdef';
const body = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'zendesk', 'trigger-created.json'));
const headersOf = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const invocation = { 'x-zendesk-webhook-invocation-id': '8350205582' };

describe('Zendesk webhook signature', () => {
  it('accepts base64 HMAC-SHA256 over the timestamp header followed directly by the body', () => {
    expect(verifyZendesk(SECRET, headersOf(signZendesk(SECRET, body)), body, Date.now())).toEqual({ ok: true });
  });

  it('refuses a signature computed with a separator between timestamp and body (a common mistake)', () => {
    const ts = zendeskTimestamp();
    const dotted = createHmac('sha256', SECRET).update(`${ts}.`).update(body).digest('base64');
    const r = verifyZendesk(SECRET, { 'x-zendesk-webhook-signature': dotted, 'x-zendesk-webhook-signature-timestamp': ts }, body, Date.now());
    expect(r).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses a hex digest, a stale timestamp and an epoch-seconds timestamp', () => {
    const ts = zendeskTimestamp();
    const hex = createHmac('sha256', SECRET).update(ts).update(body).digest('hex');
    expect(verifyZendesk(SECRET, { 'x-zendesk-webhook-signature': hex, 'x-zendesk-webhook-signature-timestamp': ts }, body, Date.now())).toMatchObject({ ok: false, reason: /base64/ });
    const old = zendeskTimestamp(Date.now() - 6 * 60_000);
    expect(verifyZendesk(SECRET, headersOf(signZendesk(SECRET, body, old)), body, Date.now())).toEqual({ ok: false, reason: 'stale timestamp: more than 5 minutes off' });
    const epoch = String(Math.floor(Date.now() / 1000));
    expect(verifyZendesk(SECRET, headersOf(signZendesk(SECRET, body, epoch)), body, Date.now())).toMatchObject({ ok: false, reason: /ISO-8601/ });
  });

  it('refuses a body altered after signing', () => {
    const h = headersOf(signZendesk(SECRET, body));
    expect(verifyZendesk(SECRET, h, Buffer.from(body.toString().replace('K1000', 'K2000')), Date.now())).toEqual({ ok: false, reason: 'bad signature' });
  });
});

describe('Zendesk trigger body', () => {
  const parse = (patch: Record<string, unknown>, headers: Record<string, string> = invocation) =>
    parseZendesk(Buffer.from(JSON.stringify({ ...JSON.parse(body.toString()), ...patch })), headers);

  it('maps the rendered template: ticket id, requester, serial, the drop-down product title, version, tags plus tether', () => {
    const r = parse({});
    expect(r).toEqual({
      ok: true,
      event: {
        kind: 'created',
        deliveryId: '8350205582',
        ticket: { system: 'zendesk', id: '35436' },
        status: 'New',
        requester: { email: 'it-ops@customer.example', name: 'IT Ops' },
        appliance: { serial: 'K1000-5F3A9C', product: 'sma', version: '13.2' },
        tags: ['appliance', 'tether', 'vip'],
        assignee: null,
      },
    });
  });

  it('carries the assignee\'s address: empty (an unassigned ticket) is null, a template without the field says nothing', () => {
    const results = [parse({ assignee_email: 'erin@vendor.example' }), parse({ assignee_email: '' }), parse({ assignee_email: undefined })];
    expect(assigneesOf(...results)).toEqual([{ email: 'erin@vendor.example' }, null, undefined]);
  });

  it('adds the tether tag when only the serial field is filled', () => {
    const r = parse({ tags: 'appliance' });
    expect(r.ok && r.event.tags).toEqual(['appliance', 'tether']);
  });

  it('reads solved as closed, from the trigger\'s event or from the status placeholder', () => {
    for (const patch of [{ event: 'solved' }, { event: 'updated', status: 'Solved' }, { event: 'updated', status: 'closed' }]) {
      const r = parse(patch);
      expect(r.ok && r.event.kind).toBe('closed');
    }
    const open = parse({ event: 'updated', status: 'Pending' });
    expect(open.ok && open.event.kind).toBe('updated');
  });

  it('refuses a delivery without X-Zendesk-Webhook-Invocation-Id, and an event it does not know', () => {
    expect(parse({}, {})).toEqual({ ok: false, reason: 'missing X-Zendesk-Webhook-Invocation-Id header' });
    expect(parse({ event: 'deleted' })).toMatchObject({ ok: false, reason: /event must be created, updated or solved/ });
  });

  it('ignores tickets without serial, product or requester address, naming what is missing', () => {
    expect(parse({ serial: '' })).toMatchObject({ ok: false, ignore: true, reason: 'zendesk ticket 35436 has no appliance serial' });
    expect(parse({ product: 'Printer', tags: '' })).toMatchObject({ ok: false, ignore: true, reason: /names no appliance product/ });
    expect(parse({ requester_email: '' })).toMatchObject({ ok: false, ignore: true, reason: /has no requester mail address/ });
  });
});
