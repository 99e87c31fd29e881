// Freshdesk: the shared token header, numeric statuses (4 Resolved, 5 Closed) as well as labels,
// delivery ids from the body (Freshdesk sends none), the assigned agent, and HTML note bodies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHtml } from '../../ticketing/freshdesk/freshdesk.adapter.js';
import { FRESHDESK_DEDUPE_TTL_S, parseFreshdesk, verifyFreshdesk } from '../../ticketing/freshdesk/freshdesk-webhook.js';
import { assigneesOf } from './helpers/assignees.js';

const TOKEN = 'fd-webhook-token-0123456789abcdef0123456789';
const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'freshdesk', name), 'utf8'));
const parse = (patch: Record<string, unknown>) => parseFreshdesk(Buffer.from(JSON.stringify({ ...fixture('ticket-created.json'), ...patch })));
const kind = (patch: Record<string, unknown>) => (parse(patch) as { event: { kind: string } }).event.kind;

describe('Freshdesk webhook token', () => {
  it('accepts the configured token and refuses another, a prefix of it and none', () => {
    expect(verifyFreshdesk(TOKEN, { 'x-tether-token': TOKEN })).toEqual({ ok: true });
    expect(verifyFreshdesk(TOKEN, { 'x-tether-token': `${TOKEN}x` })).toEqual({ ok: false, reason: 'bad token' });
    expect(verifyFreshdesk(TOKEN, { 'x-tether-token': TOKEN.slice(0, 20) })).toEqual({ ok: false, reason: 'bad token' });
    expect(verifyFreshdesk(TOKEN, {})).toEqual({ ok: false, reason: 'missing X-Tether-Token header' });
  });
});

describe('Freshdesk ticket mapping', () => {
  it('maps the rendered automation body, comma-separated tags included', () => {
    const r = parse({});
    expect(r.ok && r.event).toMatchObject({
      kind: 'created',
      ticket: { system: 'freshdesk', id: '4711' },
      requester: { email: 'it-ops@customer.example', name: 'IT Ops' },
      appliance: { serial: 'K1000-5F3A9C', product: 'sma', version: '13.2' },
      tags: ['appliance', 'tether'],
    });
  });

  it('reads the numeric statuses 4 and 5, as text or number, and their labels as closed', () => {
    for (const status of ['4', '5', 4, 5, 'Resolved', 'Closed', 'resolved']) expect(kind({ event: 'updated', status })).toBe('closed');
    for (const status of ['2', '3', 2, 'Open', 'Pending']) expect(kind({ event: 'updated', status })).toBe('updated');
    expect(kind({ event: 'resolved', status: '' })).toBe('closed');
  });

  it('derives the delivery id from ticket and body bytes, remembered long enough for Freshdesk\'s retries', () => {
    const a = parse({});
    const again = parse({});
    const other = parse({ status: '3' });
    expect(a.ok && again.ok && a.event.deliveryId === again.event.deliveryId).toBe(true);
    expect(a.ok && other.ok && a.event.deliveryId !== other.event.deliveryId).toBe(true);
    expect(a.ok && a.event.deliveryId).toMatch(/^4711:[0-9a-f]{32}$/);
    expect(FRESHDESK_DEDUPE_TTL_S).toBeGreaterThanOrEqual(95 * 60); // retries at +5, +30, +60 min
  });

  it('carries {{ticket.agent.email}} as the assignee: empty (no agent) is null, absent says nothing, a closing ticket keeps it', () => {
    const closing = parseFreshdesk(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'freshdesk', 'ticket-resolved.json')));
    expect(assigneesOf(parse({}), parse({ assignee_email: null }), parse({ assignee_email: undefined }), closing)).toEqual([null, null, undefined, { email: 'erin@vendor.example' }]);
  });

  it('ignores a ticket whose serial placeholder rendered empty', () => {
    expect(parseFreshdesk(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'freshdesk', 'ticket-no-serial.json')))).toMatchObject({ ok: false, ignore: true });
  });

  it('writes note bodies as escaped HTML paragraphs', () => {
    expect(toHtml('Tether <key> for "A&B"\nline two\n\nnext')).toBe('<p>Tether &lt;key&gt; for &quot;A&amp;B&quot;<br>line two</p><p>next</p>');
  });
});
