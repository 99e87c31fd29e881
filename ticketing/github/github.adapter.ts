// The GitHub Issues adapter: webhook verification and mapping (github-webhook.ts), comments
// through POST /repos/{owner}/{repo}/issues/{n}/comments with a bearer token and the REST API's
// version header. GitHub has no internal notes: every comment is visible to whoever can read the
// issue, which is why only private repositories are served.
import type { TicketRef } from '../../shared/session/session.schema.js';
import type { InboundWebhook, NewTicket, TicketAdapter, TicketComment } from '../ticket-adapter.js';
import { badTicketRef, vendorApi, notConfigured, unexpectedAnswer, type VendorAdapterOptions } from '../vendor-http.js';
import { FORM_HEADINGS, GITHUB_SYSTEM, githubRef, parseGitHub, verifyGitHub } from './github-webhook.js';

export const GITHUB_API_VERSION = '2022-11-28';
export interface GitHubConfig {
  webhookSecret: string;
  api?: { url: string; token: string } | undefined;
  /** owner/name where tickets we create are opened. */
  repo?: string | undefined;
  label: string;
}

function issueOf(ref: TicketRef): { repo: string; number: string } {
  const m = ref.system === GITHUB_SYSTEM ? /^([\w.-]+\/[\w.-]+)#(\d{1,10})$/.exec(ref.id) : null;
  if (!m) throw badTicketRef(GITHUB_SYSTEM, ref.id, 'owner/repo#number');
  return { repo: m[1]!, number: m[2]! };
}

export function createGitHubAdapter(config: GitHubConfig, opts: VendorAdapterOptions): TicketAdapter {
  const headers = (a: { token: string }) => ({
    Authorization: `Bearer ${a.token}`,
    Accept: 'application/vnd.github+json',
    'X-GitHub-Api-Version': GITHUB_API_VERSION,
    // The REST API refuses requests without a User-Agent.
    'User-Agent': 'tether-orchestrator',
  });
  const { http, api, identity } = vendorApi(GITHUB_SYSTEM, config.api, headers, opts);

  return {
    ...identity,
    verify: (req: InboundWebhook) => verifyGitHub(config.webhookSecret, req.headers, req.rawBody),
    parse: parseGitHub,
    async addComment(ticket: TicketRef, comment: TicketComment): Promise<void> {
      const { repo, number } = issueOf(ticket);
      await api('comments').request('POST', `/repos/${repo}/issues/${number}/comments`, { body: comment.body });
    },
    /** An issue shaped like our issue form, so its own webhook maps back the same way. */
    async createTicket(input: NewTicket): Promise<TicketRef> {
      if (!config.repo) throw notConfigured(GITHUB_SYSTEM, 'issues opened by tether', ['TETHER_GITHUB_REPO']);
      const section = (heading: string, value: string | undefined) => `### ${heading}\n\n${value ?? '_No response_'}`;
      const body = [
        section(FORM_HEADINGS.serial, input.appliance.serial),
        section(FORM_HEADINGS.product, input.appliance.product.toUpperCase()),
        section(FORM_HEADINGS.version, input.appliance.version),
        section(FORM_HEADINGS.email, input.requesterEmail),
        section('Description', input.description),
      ].join('\n\n');
      const res = await api('issues opened by tether').request('POST', `/repos/${config.repo}/issues`, { title: input.subject, body, labels: [config.label] });
      const number = (res.json as { number?: unknown } | null)?.number;
      if (typeof number !== 'number') throw unexpectedAnswer(GITHUB_SYSTEM, 'number');
      return githubRef(config.repo, number);
    },
    async isClosed(ticket: TicketRef): Promise<boolean | null> {
      if (!http) return null;
      const { repo, number } = issueOf(ticket);
      const res = await http.request('GET', `/repos/${repo}/issues/${number}`);
      const state = (res.json as { state?: unknown } | null)?.state;
      return state === 'closed' ? true : state === 'open' ? false : null;
    },
  };
}
