// One case per vendor help desk for the shared tests: its configuration, its deliveries built from
// the fixtures and signed exactly as the vendor signs them (independently of the adapters' code),
// and a stand-in REST API that accepts only the documented comment, create and read calls.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic, keysOf, type StubRequest, type VendorApiBehaviour } from './vendor-api.js';

export interface Delivery {
  body: Buffer;
  headers: Record<string, string>;
}

export interface TicketFacts {
  /** Numeric seed of the ticket's id in each help desk. */
  seed: number;
  serial: string;
  email: string;
}

export type Variant = 'open' | 'closed' | 'no-serial';

export interface VendorCase {
  system: 'zendesk' | 'jira' | 'servicenow' | 'freshdesk' | 'github';
  env(apiUrl: string): Record<string, string>;
  api: VendorApiBehaviour;
  /** The ticket ref id the adapter gives the seed's ticket. */
  ref(seed: number): string;
  delivery(variant: Variant, t: TicketFacts, deliveryId?: string): Delivery;
  /** Signed with another secret. */
  forge(d: Delivery): Delivery;
  /** Without the signature (or token) header. */
  unsign(d: Delivery): Delivery;
  isComment(req: StubRequest): boolean;
  /** What a comment request addresses in its path for the seed's ticket (id, key, sys_id, repo#n). */
  target(seed: number): string;
  /** Target and plain text of a comment request. */
  commentOf(req: StubRequest): { target: string; text: string };
}

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const fixture = (path: string): any => JSON.parse(readFileSync(join(FIXTURES, path), 'utf8'));
const hmac = (secret: string, data: string | Buffer) => createHmac('sha256', secret).update(data);
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const without = (h: Record<string, string>, name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== name.toLowerCase()));
const AGENT = 'agent@vendor.example';

/** Problems with the request's content type and auth, shared by every vendor. */
function common(req: StubRequest, auth: string, body: boolean): string | null {
  if (req.headers.authorization !== auth) return `authorization must be ${auth.split(' ')[0]} with the configured credentials`;
  if (body && !/^application\/json\b/.test(req.headers['content-type'] ?? '')) return 'content-type must be application/json';
  return null;
}

// ---------------------------------------------------------------- Zendesk
const ZD = { secret: 'zd-signing-secret-0123456789abcdef', token: 'zd-api-token' };
/** Zendesk's timestamp header: ISO-8601 to the second. */
export const zendeskTimestamp = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export function signZendesk(secret: string, body: Buffer, timestamp = zendeskTimestamp()): Record<string, string> {
  // base64 of HMAC-SHA256 over timestamp + body, no separator.
  return { 'X-Zendesk-Webhook-Signature': hmac(secret, timestamp).update(body).digest('base64'), 'X-Zendesk-Webhook-Signature-Timestamp': timestamp };
}
const zendesk: VendorCase = {
  system: 'zendesk',
  env: (url) => ({ TETHER_ZENDESK_WEBHOOK_SECRET: ZD.secret, TETHER_ZENDESK_URL: url, TETHER_ZENDESK_EMAIL: AGENT, TETHER_ZENDESK_API_TOKEN: ZD.token, TETHER_ZENDESK_SERIAL_FIELD: '360012345678', TETHER_ZENDESK_PRODUCT_FIELD: '360012345679' }),
  api: {
    check(req) {
      const auth = basic(`${AGENT}/token`, ZD.token);
      if (req.method === 'PUT' && /^\/api\/v2\/tickets\/\d+\.json$/.test(req.path)) {
        const j = req.json as any;
        if (keysOf(j) !== 'ticket' || keysOf(j.ticket) !== 'comment' || keysOf(j.ticket.comment) !== 'body,public') return 'body must be {ticket:{comment:{body,public}}}';
        if (j.ticket.comment.public !== false) return 'comment.public must be false (true, the default, mails the requester)';
        return common(req, auth, true);
      }
      if (req.method === 'POST' && req.path === '/api/v2/tickets.json') return common(req, auth, true);
      if (req.method === 'GET' && /^\/api\/v2\/tickets\/\d+\.json$/.test(req.path)) return common(req, auth, false);
      return 'not a Zendesk endpoint tether uses';
    },
    answer: (req) => (req.method === 'POST' ? { status: 201, body: { ticket: { id: 90001, status: 'new' } } } : { status: 200, body: { ticket: { id: Number(/\d+/.exec(req.path)![0]), status: 'open' } } }),
  },
  ref: (seed) => String(seed),
  delivery(variant, t, deliveryId = randomUUID()) {
    const b = fixture(`zendesk/${variant === 'open' ? 'trigger-created' : variant === 'closed' ? 'trigger-solved' : 'trigger-no-serial'}.json`);
    Object.assign(b, { ticket_id: String(t.seed), requester_email: t.email }, variant === 'no-serial' ? {} : { serial: t.serial });
    const body = json(b);
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Zendesk Webhook',
        'X-Zendesk-Account-Id': '123456',
        'X-Zendesk-Webhook-Id': '01F1KRFQ6BG29CNWFR60NK5FNY',
        'X-Zendesk-Webhook-Invocation-Id': deliveryId,
        ...signZendesk(ZD.secret, body),
      },
    };
  },
  forge: (d) => ({ body: d.body, headers: { ...d.headers, ...signZendesk('not-the-signing-secret-0123', d.body) } }),
  unsign: (d) => ({ body: d.body, headers: without(d.headers, 'X-Zendesk-Webhook-Signature') }),
  isComment: (req) => req.method === 'PUT',
  target: String,
  commentOf: (req) => ({ target: /\/tickets\/(\d+)\.json/.exec(req.path)![1]!, text: (req.json as any).ticket.comment.body }),
};

// ---------------------------------------------------------------- Jira Service Management
const JIRA = { secret: 'jira-webhook-secret-0123456789', token: 'jira-api-token' };
export const signJira = (secret: string, body: Buffer) => ({ 'X-Hub-Signature': `sha256=${hmac(secret, body).digest('hex')}` });
const jira: VendorCase = {
  system: 'jira',
  env: (url) => ({
    TETHER_JIRA_WEBHOOK_SECRET: JIRA.secret,
    TETHER_JIRA_URL: url,
    TETHER_JIRA_EMAIL: AGENT,
    TETHER_JIRA_API_TOKEN: JIRA.token,
    TETHER_JIRA_SERIAL_FIELD: 'customfield_10055',
    TETHER_JIRA_PRODUCT_FIELD: 'customfield_10056',
    TETHER_JIRA_VERSION_FIELD: 'customfield_10057',
    TETHER_JIRA_SERVICE_DESK_ID: '1',
    TETHER_JIRA_REQUEST_TYPE_ID: '10',
  }),
  api: {
    check(req) {
      const auth = basic(AGENT, JIRA.token);
      if (req.method === 'POST' && /^\/rest\/servicedeskapi\/request\/[A-Z]+-\d+\/comment$/.test(req.path)) {
        const j = req.json as any;
        if (keysOf(j) !== 'body,public') return 'body must be {body, public}';
        if (j.public !== false) return 'public must be sent and false (an unrestricted comment is a public reply)';
        if (typeof j.body !== 'string') return 'body must be plain text';
        return common(req, auth, true);
      }
      if (req.method === 'POST' && req.path === '/rest/servicedeskapi/request') return common(req, auth, true);
      if (req.method === 'GET' && /^\/rest\/api\/3\/issue\/[A-Z]+-\d+\?fields=status,resolution$/.test(req.path)) return common(req, auth, false);
      return 'not a Jira endpoint tether uses';
    },
    answer: (req) =>
      req.method === 'GET'
        ? { status: 200, body: { key: 'SUP-1', fields: { status: { name: 'Resolved', statusCategory: { key: 'done' } }, resolution: { name: 'Done' } } } }
        : req.path.endsWith('/comment')
          ? { status: 201, body: { id: '10010', body: (req.json as any).body, public: false } }
          : { status: 201, body: { issueId: '10042', issueKey: 'SUP-42' } },
  },
  ref: (seed) => `SUP-${seed}`,
  delivery(variant, t, deliveryId = randomUUID()) {
    const b = fixture(`jira/${variant === 'open' ? 'issue-created' : variant === 'closed' ? 'issue-resolved' : 'issue-no-serial'}.json`);
    b.issue.id = String(100_000 + t.seed);
    b.issue.key = `SUP-${t.seed}`;
    b.issue.fields.reporter.emailAddress = t.email;
    if (variant !== 'no-serial') b.issue.fields.customfield_10055 = t.serial;
    const body = json(b);
    return {
      body,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'Atlassian Webhook HTTP Client', 'X-Atlassian-Webhook-Identifier': deliveryId, 'X-Atlassian-Webhook-Flow': 'Primary', ...signJira(JIRA.secret, body) },
    };
  },
  forge: (d) => ({ body: d.body, headers: { ...d.headers, ...signJira('not-the-webhook-secret-0123', d.body) } }),
  unsign: (d) => ({ body: d.body, headers: without(d.headers, 'X-Hub-Signature') }),
  isComment: (req) => req.path.endsWith('/comment'),
  target: (seed) => `SUP-${seed}`,
  commentOf: (req) => ({ target: /request\/([A-Z]+-\d+)\//.exec(req.path)![1]!, text: (req.json as any).body }),
};

// ---------------------------------------------------------------- ServiceNow
const SN = { secret: 'sn-webhook-secret-0123456789', user: 'tether.integration', password: 'sn-password' };
export const sysIdOfSeed = (seed: number) => createHash('md5').update(`incident-${seed}`).digest('hex');
/** What our business rule sends: HMAC over "<ts>.<body>", base64 as GlideCertificateEncryption.generateMac returns it. */
export function signServiceNow(secret: string, body: Buffer, nowMs = Date.now()): Record<string, string> {
  const ts = String(Math.floor(nowMs / 1000));
  return { 'X-Tether-Timestamp': ts, 'X-Tether-Signature': `sha256=${hmac(secret, `${ts}.`).update(body).digest('base64')}` };
}
const servicenow: VendorCase = {
  system: 'servicenow',
  env: (url) => ({ TETHER_SERVICENOW_WEBHOOK_SECRET: SN.secret, TETHER_SERVICENOW_URL: url, TETHER_SERVICENOW_USER: SN.user, TETHER_SERVICENOW_PASSWORD: SN.password, TETHER_SERVICENOW_SERIAL_FIELD: 'u_serial_number' }),
  api: {
    check(req) {
      const auth = basic(SN.user, SN.password);
      if (req.headers.accept !== 'application/json') return 'accept must be application/json';
      if (req.method === 'PATCH' && /^\/api\/now\/table\/incident\/[0-9a-f]{32}$/.test(req.path)) {
        if (keysOf(req.json) !== 'work_notes') return 'body must be {work_notes} (internal), nothing else';
        return common(req, auth, true);
      }
      if (req.method === 'POST' && req.path === '/api/now/table/incident') return common(req, auth, true);
      if (req.method === 'GET' && /^\/api\/now\/table\/incident\/[0-9a-f]{32}\?sysparm_fields=state$/.test(req.path)) return common(req, auth, false);
      return 'not a ServiceNow endpoint tether uses (the Table API needs the sys_id)';
    },
    answer: (req) =>
      req.method === 'POST'
        ? { status: 201, body: { result: { sys_id: sysIdOfSeed(90001), number: 'INC0090001', state: '1' } } }
        : { status: 200, body: { result: { sys_id: req.path.split('/').pop()!.split('?')[0], state: req.method === 'GET' ? '6' : '2' } } },
  },
  ref: (seed) => `INC${String(seed).padStart(7, '0')}/${sysIdOfSeed(seed)}`,
  delivery(variant, t, deliveryId) {
    const b = fixture(`servicenow/${variant === 'open' ? 'incident-updated' : variant === 'closed' ? 'incident-resolved' : 'incident-no-serial'}.json`);
    const sysId = sysIdOfSeed(t.seed);
    Object.assign(b, { sys_id: sysId, number: `INC${String(t.seed).padStart(7, '0')}`, caller_email: t.email, delivery_id: deliveryId ?? `${sysId}-${randomUUID()}` });
    if (variant !== 'no-serial') b.serial = t.serial;
    const body = json(b);
    return { body, headers: { 'Content-Type': 'application/json', 'User-Agent': 'ServiceNow/1.0', ...signServiceNow(SN.secret, body) } };
  },
  forge: (d) => ({ body: d.body, headers: { ...d.headers, ...signServiceNow('not-the-webhook-secret-0123', d.body) } }),
  unsign: (d) => ({ body: d.body, headers: without(d.headers, 'X-Tether-Signature') }),
  isComment: (req) => req.method === 'PATCH',
  target: sysIdOfSeed,
  commentOf: (req) => ({ target: req.path.split('/').pop()!, text: (req.json as any).work_notes }),
};

// ---------------------------------------------------------------- Freshdesk
const FD = { token: 'fd-webhook-token-0123456789abcdef0123456789', apiKey: 'fd-api-key' };
const fromHtml = (html: string) =>
  html
    .replace(/<\/p><p>/g, '\n\n')
    .replace(/<br>/g, '\n')
    .replace(/<\/?p>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
const freshdesk: VendorCase = {
  system: 'freshdesk',
  env: (url) => ({ TETHER_FRESHDESK_WEBHOOK_TOKEN: FD.token, TETHER_FRESHDESK_URL: url, TETHER_FRESHDESK_API_KEY: FD.apiKey, TETHER_FRESHDESK_SERIAL_FIELD: 'cf_serial_number' }),
  api: {
    check(req) {
      const auth = basic(FD.apiKey, 'X');
      if (req.method === 'POST' && /^\/api\/v2\/tickets\/\d+\/notes$/.test(req.path)) {
        const j = req.json as any;
        if (keysOf(j) !== 'body,private') return 'body must be {body, private}';
        if (j.private !== true) return 'private must be true';
        if (!/^<p>/.test(j.body)) return 'body must be HTML';
        return common(req, auth, true);
      }
      if (req.method === 'POST' && req.path === '/api/v2/tickets') return common(req, auth, true);
      if (req.method === 'GET' && /^\/api\/v2\/tickets\/\d+$/.test(req.path)) return common(req, auth, false);
      return 'not a Freshdesk endpoint tether uses';
    },
    answer: (req) =>
      req.method === 'GET'
        ? { status: 200, body: { id: Number(req.path.split('/').pop()), status: 5 } }
        : req.path.endsWith('/notes')
          ? { status: 201, body: { id: 1, body: (req.json as any).body, private: true } }
          : { status: 201, body: { id: 90001, status: 2 } },
  },
  ref: (seed) => String(seed),
  delivery(variant, t, deliveryId) {
    const b = fixture(`freshdesk/${variant === 'open' ? 'ticket-created' : variant === 'closed' ? 'ticket-resolved' : 'ticket-no-serial'}.json`);
    Object.assign(b, { ticket_id: String(t.seed), requester_email: t.email }, variant === 'no-serial' ? {} : { serial: t.serial });
    // Freshdesk sends no delivery id; a different one here means a different (re)rendering of the rule.
    if (deliveryId) b.subject = deliveryId;
    return { body: json(b), headers: { 'Content-Type': 'application/json', 'X-Tether-Token': FD.token } };
  },
  forge: (d) => ({ body: d.body, headers: { ...d.headers, 'X-Tether-Token': 'not-the-token-0123456789abcdef0123456789' } }),
  unsign: (d) => ({ body: d.body, headers: without(d.headers, 'X-Tether-Token') }),
  isComment: (req) => req.path.endsWith('/notes'),
  target: String,
  commentOf: (req) => ({ target: /tickets\/(\d+)\/notes/.exec(req.path)![1]!, text: fromHtml((req.json as any).body) }),
};

// ---------------------------------------------------------------- GitHub Issues
const GH = { secret: 'gh-webhook-secret-0123456789', token: 'gh-token' };
export const signGitHub = (secret: string, body: Buffer) => ({ 'X-Hub-Signature-256': `sha256=${hmac(secret, body).digest('hex')}` });
const github: VendorCase = {
  system: 'github',
  env: (url) => ({ TETHER_GITHUB_WEBHOOK_SECRET: GH.secret, TETHER_GITHUB_TOKEN: GH.token, TETHER_GITHUB_API_URL: url, TETHER_GITHUB_REPO: 'acme/support' }),
  api: {
    check(req) {
      if (req.headers.accept !== 'application/vnd.github+json') return 'accept must be application/vnd.github+json';
      if (req.headers['x-github-api-version'] !== '2022-11-28') return 'x-github-api-version must be 2022-11-28';
      if (!req.headers['user-agent']) return 'user-agent is required by the REST API';
      const auth = `Bearer ${GH.token}`;
      if (req.method === 'POST' && /^\/repos\/acme\/support\/issues\/\d+\/comments$/.test(req.path)) {
        if (keysOf(req.json) !== 'body') return 'body must be {body}';
        return common(req, auth, true);
      }
      if (req.method === 'POST' && req.path === '/repos/acme/support/issues') return common(req, auth, true);
      if (req.method === 'GET' && /^\/repos\/acme\/support\/issues\/\d+$/.test(req.path)) return common(req, auth, false);
      return 'not a GitHub endpoint tether uses';
    },
    answer: (req) =>
      req.method === 'GET'
        ? { status: 200, body: { number: Number(req.path.split('/').pop()), state: 'closed' } }
        : req.path.endsWith('/comments')
          ? { status: 201, body: { id: 1, body: (req.json as any).body } }
          : { status: 201, body: { number: 90001, state: 'open' } },
  },
  ref: (seed) => `acme/support#${seed}`,
  delivery(variant, t, deliveryId = randomUUID()) {
    const b = fixture(`github/${variant === 'open' ? 'issues-opened' : variant === 'closed' ? 'issues-closed' : 'issues-no-serial'}.json`);
    b.issue.number = t.seed;
    b.issue.id = 2_000_000_000 + t.seed;
    b.issue.body = variant === 'no-serial' ? b.issue.body : String(b.issue.body).replace('K1000-5F3A9C', t.serial).replace('it-ops@customer.example', t.email);
    const body = json(b);
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'GitHub-Hookshot/a1b2c3d',
        'X-GitHub-Event': 'issues',
        'X-GitHub-Delivery': deliveryId,
        'X-GitHub-Hook-ID': '420698761',
        'X-GitHub-Hook-Installation-Target-Type': 'repository',
        'X-GitHub-Hook-Installation-Target-ID': '123456789',
        ...signGitHub(GH.secret, body),
      },
    };
  },
  forge: (d) => ({ body: d.body, headers: { ...d.headers, ...signGitHub('not-the-webhook-secret-0123', d.body) } }),
  unsign: (d) => ({ body: d.body, headers: without(d.headers, 'X-Hub-Signature-256') }),
  isComment: (req) => req.path.endsWith('/comments'),
  target: (seed) => `acme/support#${seed}`,
  commentOf: (req) => ({ target: `acme/support#${/issues\/(\d+)\/comments/.exec(req.path)![1]}`, text: (req.json as any).body }),
};

/** A GitHub issues delivery of `action` for the ticket, its issue changed by `edit`, signed as GitHub signs it. */
export function gitHubDelivery(t: TicketFacts, action: string, edit: (issue: any) => void, deliveryId?: string): Delivery {
  const open = github.delivery('open', t, deliveryId);
  const b = JSON.parse(open.body.toString());
  b.action = action;
  edit(b.issue);
  const body = json(b);
  return { body, headers: { ...open.headers, ...signGitHub(GH.secret, body) } };
}

export const VENDOR_CASES: readonly VendorCase[] = [zendesk, jira, servicenow, freshdesk, github];
export const SECRETS = { zendesk: ZD.secret, jira: JIRA.secret, servicenow: SN.secret, freshdesk: FD.token, github: GH.secret } as const;
