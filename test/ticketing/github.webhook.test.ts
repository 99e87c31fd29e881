// GitHub Issues: X-Hub-Signature-256 (GitHub's documented test vector), issues events only, the
// issue form's sections and labels as fields, the assignee by login, private repositories only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formSection, parseGitHub, verifyGitHub } from '../../ticketing/github/github-webhook.js';
import { assigneesOf } from './helpers/assignees.js';

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'github', name), 'utf8'));
const headers = (event = 'issues') => ({ 'x-github-event': event, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
const parse = (o: unknown, event?: string) => parseGitHub(Buffer.from(JSON.stringify(o)), headers(event));

describe('GitHub webhook signature', () => {
  it('matches the test vector in GitHub\'s "Validating webhook deliveries"', () => {
    const h = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    expect(verifyGitHub("It's a Secret to Everybody", h, Buffer.from('Hello, World!'))).toEqual({ ok: true });
    expect(verifyGitHub("It's a Secret to Everybody", h, Buffer.from('Hello, World?'))).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyGitHub('x'.repeat(16), { 'x-hub-signature': 'sha1=abc' }, Buffer.from(''))).toEqual({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
  });
});

describe('GitHub issues mapping', () => {
  it('maps an opened issue from its form: serial, product, version and contact address', () => {
    const r = parse(fixture('issues-opened.json'));
    expect(r.ok && r.event).toMatchObject({
      kind: 'created',
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      ticket: { system: 'github', id: 'acme/support#1347' },
      subject: 'Inventory page is blank',
      status: 'open',
      requester: { email: 'it-ops@customer.example' },
      appliance: { serial: 'K1000-5F3A9C', product: 'sma', version: '13.2' },
      tags: ['tether'],
    });
  });

  it('reads closed as closed and takes serial and product from labels when the body has no form', () => {
    expect((parse(fixture('issues-closed.json')) as { event: { kind: string } }).event.kind).toBe('closed');
    const labelled = fixture('issues-opened.json');
    labelled.issue.body = '### Contact email\n\nops@customer.example';
    labelled.issue.labels = [{ name: 'serial:SN-FROM-LABEL' }, { name: 'sda' }];
    const r = parse(labelled);
    expect(r.ok && r.event.appliance).toEqual({ serial: 'SN-FROM-LABEL', product: 'sda' });
  });

  it('an assigned or unassigned action is an update carrying the issue\'s assignee (the first of assignees) by login', () => {
    const acted = (action: string, logins: string[], legacy = true) => {
      const o = fixture('issues-opened.json');
      o.action = action;
      o.issue.assignees = logins.map((login) => ({ login, id: 1, type: 'User' }));
      if (legacy) o.issue.assignee = o.issue.assignees[0] ?? null;
      else delete o.issue.assignee;
      return parse(o);
    };
    const assigned = acted('assigned', ['erin-gh', 'frank-gh']);
    expect(assigned.ok && assigned.event.kind).toBe('updated');
    const absent = fixture('issues-opened.json');
    delete absent.issue.assignee;
    delete absent.issue.assignees;
    expect(assigneesOf(assigned, acted('unassigned', []), acted('assigned', ['frank-gh'], false), parse(absent))).toEqual([{ login: 'erin-gh' }, null, { login: 'frank-gh' }, undefined]);
  });

  it('ignores pings, other events and public repositories; refuses form-encoded deliveries', () => {
    expect(parse(fixture('ping.json'), 'ping')).toMatchObject({ ok: false, ignore: true, reason: /ping/ });
    expect(parse(fixture('issues-opened.json'), 'issue_comment')).toMatchObject({ ok: false, ignore: true });
    const open = fixture('issues-opened.json');
    open.repository.private = false;
    expect(parse(open)).toMatchObject({ ok: false, ignore: true, reason: /not a private repository/ });
    expect(parseGitHub(Buffer.from('payload=%7B%7D'), headers())).toMatchObject({ ok: false, reason: /application\/json/ });
  });

  it('an issue form with the serial left empty ("_No response_") is ignored, and the issue is told which field is missing', () => {
    const open = fixture('issues-opened.json');
    open.issue.body = '### Serial number\n\n_No response_\n\n### Product\n\nSMA\n\n### Contact email\n\nops@customer.example';
    const r = parse(open);
    expect(r).toMatchObject({ ok: false, ignore: true, reason: /left Serial number empty/ });
    const tell = (r as { tell?: { ticket: unknown; comment: string; deliveryId: string } }).tell;
    expect(tell).toMatchObject({ ticket: { system: 'github', id: 'acme/support#1347' }, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(tell!.comment).toMatch(/no Serial number\. Edit the issue and fill in that field/);
    // A label still counts as the answer; a closed issue is never told.
    open.issue.labels = [{ name: 'serial:SN-FROM-LABEL' }];
    expect(parse(open)).toMatchObject({ ok: true });
    expect(parse(fixture('issues-closed.json')).ok).toBe(true);
  });

  it('reads "_No response_" as an empty form answer', () => {
    expect(formSection('### Version\n\n_No response_\n\n### Contact email\n\na@b.example', 'Version')).toBeUndefined();
    expect(formSection('### Version\n\n_No response_\n\n### Contact email\n\na@b.example', 'contact email')).toBe('a@b.example');
  });
});
