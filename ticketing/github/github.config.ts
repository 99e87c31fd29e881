// GitHub Issues' settings: its TETHER_GITHUB_* variables, the config they make (undefined until
// the webhook secret is set), what it needs to be complete, and its adapter. docs/help-desks.md,
// "GitHub Issues".
import { z } from 'zod';
import { baseUrl, credential, secret, vendorTag } from '../help-desk-env.js';
import { vendorHelpDesk } from '../help-desk.js';
import { createGitHubAdapter, type GitHubConfig } from './github.adapter.js';
import { GITHUB_SYSTEM } from './github-webhook.js';

export const gitHubHelpDesk = vendorHelpDesk({
  system: GITHUB_SYSTEM,
  switchedOnBy: { TETHER_GITHUB_WEBHOOK_SECRET: secret },
  // The API URL has a default (api.github.com): the token alone opens the REST API.
  api: { TETHER_GITHUB_TOKEN: credential },
  env: {
    TETHER_GITHUB_API_URL: baseUrl.default('https://api.github.com'),
    TETHER_GITHUB_REPO: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional(),
    TETHER_GITHUB_LABEL: vendorTag,
  },
  config: (e): GitHubConfig | undefined =>
    e.TETHER_GITHUB_WEBHOOK_SECRET
      ? {
          webhookSecret: e.TETHER_GITHUB_WEBHOOK_SECRET,
          api: e.TETHER_GITHUB_TOKEN ? { url: e.TETHER_GITHUB_API_URL, token: e.TETHER_GITHUB_TOKEN } : undefined,
          repo: e.TETHER_GITHUB_REPO,
          label: e.TETHER_GITHUB_LABEL,
        }
      : undefined,
  createAdapter: createGitHubAdapter,
  // Refs are `owner/repo#number` (github-webhook.ts).
  ticketLink: (c, id) => {
    const m = /^([\w.-]+\/[\w.-]+)#(\d+)$/.exec(id);
    const base = githubWebBase(c.api?.url ?? 'https://api.github.com');
    return m && base ? `${base}/${m[1]}/issues/${m[2]}` : null;
  },
});

/** The web origin of a GitHub REST API URL: api.github.com → github.com; GHES https://h/api/v3 → https://h. */
export function githubWebBase(apiUrl: string): string | null {
  try {
    const u = new URL(apiUrl);
    if (u.hostname === 'api.github.com') return 'https://github.com';
    return `${u.origin}${u.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/+$/, '')}`;
  } catch {
    return null;
  }
}
