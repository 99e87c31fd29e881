// Jira Service Management: `X-Hub-Signature: sha256=<hex>`, Jira's issue JSON mapped through the
// configured custom fields, the assignee by account id, "done" from the status category or a resolution.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJira, plainText, verifyJira } from '../../ticketing/jira/jira-webhook.js';
import { UNKNOWN_REQUESTER } from '../../ticketing/ticket-fields.js';
import { assigneesOf } from './helpers/assignees.js';
import { signJira } from './helpers/vendor-cases.js';

const SECRET = 'jira-webhook-secret-0123456789';
const FIELDS = { serial: 'customfield_10055', product: 'customfield_10056', version: 'customfield_10057' };
const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'jira', name), 'utf8'));
const delivery = { 'x-atlassian-webhook-identifier': 'c2b6ad5e-0001' };
const parse = (o: unknown, fields: typeof FIELDS & { email?: string } = FIELDS) => parseJira(fields, Buffer.from(JSON.stringify(o)), delivery);

describe('Jira webhook signature', () => {
  const body = Buffer.from(JSON.stringify(fixture('issue-created.json')));

  it('accepts sha256=<hex HMAC of the raw body> and refuses other secrets, other methods and no header', () => {
    expect(verifyJira(SECRET, { 'x-hub-signature': signJira(SECRET, body)['X-Hub-Signature'] }, body)).toEqual({ ok: true });
    expect(verifyJira(SECRET, { 'x-hub-signature': signJira('another-secret-0123456789', body)['X-Hub-Signature'] }, body)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyJira(SECRET, { 'x-hub-signature': 'sha1=0123456789abcdef0123456789abcdef01234567' }, body)).toMatchObject({ ok: false, reason: /sha256/ });
    expect(verifyJira(SECRET, {}, body)).toEqual({ ok: false, reason: 'missing X-Hub-Signature header' });
  });
});

describe('Jira issue mapping', () => {
  it('maps an issue_created: key as the ticket, reporter address, serial and select-option product from the configured fields', () => {
    const r = parse(fixture('issue-created.json'));
    expect(r).toEqual({
      ok: true,
      event: {
        kind: 'created',
        deliveryId: 'c2b6ad5e-0001',
        ticket: { system: 'jira', id: 'SUP-123' },
        subject: 'Inventory page is blank',
        description: 'Since the upgrade the inventory page shows nothing.',
        status: 'Waiting for support',
        requester: { email: 'it-ops@customer.example', name: 'IT Ops' },
        appliance: { serial: 'K1000-5F3A9C', product: 'sma', version: '13.2' },
        tags: ['appliance', 'tether'],
        assignee: null,
      },
    });
  });

  it('maps fields.assignee: accountId as the login (always there), emailAddress when privacy shows it; null is unassigned', () => {
    const shown = fixture('issue-created.json');
    shown.issue.fields.assignee = { accountId: '557058:f58131cb-b67d-43c7-b30d-6b58d40bd077', emailAddress: 'erin@vendor.example', displayName: 'Erin' };
    const absent = fixture('issue-created.json');
    delete absent.issue.fields.assignee;
    expect(assigneesOf(parse(shown), parse(fixture('issue-resolved.json')), parse(fixture('issue-created.json')), parse(absent))).toEqual([
      { email: 'erin@vendor.example', login: '557058:f58131cb-b67d-43c7-b30d-6b58d40bd077' },
      { login: '5b10ac8d82e05b22cc7d4ef5' },
      null,
      undefined,
    ]);
  });

  it('reads a resolved issue (status category done, resolution set) as closed, with an ADF description as text', () => {
    const r = parse(fixture('issue-resolved.json'));
    expect(r.ok && r.event.kind).toBe('closed');
    expect(r.ok && r.event.description).toBe('Since the upgrade the inventory page shows nothing.');
  });

  it('takes either signal alone: category done without resolution, or a resolution in another category', () => {
    const a = fixture('issue-resolved.json');
    a.issue.fields.resolution = null;
    expect((parse(a) as { event: { kind: string } }).event.kind).toBe('closed');
    const b = fixture('issue-resolved.json');
    b.issue.fields.status = { name: 'In review', statusCategory: { key: 'indeterminate' } };
    expect((parse(b) as { event: { kind: string } }).event.kind).toBe('closed');
    const c = fixture('issue-resolved.json');
    c.issue.fields.resolution = null;
    c.issue.fields.status = { name: 'In progress', statusCategory: { key: 'indeterminate' } };
    expect((parse(c) as { event: { kind: string } }).event.kind).toBe('updated');
  });

  it('reads a deleted issue as closed and ignores events that are not about an issue\'s life', () => {
    expect((parse({ ...fixture('issue-created.json'), webhookEvent: 'jira:issue_deleted' }) as { event: { kind: string } }).event.kind).toBe('closed');
    expect(parse({ ...fixture('issue-created.json'), webhookEvent: 'comment_created' })).toMatchObject({ ok: false, ignore: true, reason: /comment_created/ });
  });

  it('falls back to the configured address field when privacy hides the reporter\'s, and closes without any address', () => {
    const hidden = fixture('issue-created.json');
    delete hidden.issue.fields.reporter.emailAddress;
    expect(parse(hidden)).toMatchObject({ ok: false, ignore: true, reason: /no requester mail address/ });
    hidden.issue.fields.customfield_10058 = 'contact@customer.example';
    const viaField = parse(hidden, { ...FIELDS, email: 'customfield_10058' });
    expect(viaField.ok && viaField.event.requester.email).toBe('contact@customer.example');
    const closing = fixture('issue-resolved.json');
    delete closing.issue.fields.reporter.emailAddress;
    const r = parse(closing);
    expect(r.ok && r.event.requester.email).toBe(UNKNOWN_REQUESTER);
  });

  it('turns Atlassian Document Format into paragraphs of text', () => {
    const adf = { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'One' }] }, { type: 'paragraph', content: [{ type: 'text', text: 'Two ' }, { type: 'text', text: 'parts' }] }] };
    expect(plainText(adf)).toBe('One\nTwo parts');
  });
});
