// The generic help desk's entry in the registry. Its variables are the server's own
// (TETHER_WEBHOOK_SECRET, TETHER_TICKET_COMMENT_URL in shared/config.ts), so it has no settings:
// it always exists, refusing every webhook until the secret is set, and is one-click's default.
import { createGenericAdapter } from './generic.adapter.js';
import { GENERIC_SYSTEM } from './generic-webhook.schema.js';
import type { HelpDesk } from './help-desk.js';

export const genericHelpDesk: HelpDesk = {
  system: GENERIC_SYSTEM,
  // No web UI we know of.
  link: () => null,
  adapter: (config, opts) => createGenericAdapter({ secret: config.api.webhookSecret, commentUrl: config.ticketCommentUrl, now: opts.now, localSink: opts.localSink }),
  status(config, opts) {
    const secret = config.api.webhookSecret;
    const commentUrl = config.ticketCommentUrl;
    return {
      system: GENERIC_SYSTEM,
      configured: Boolean(secret),
      // Without a comment URL, the local sink (the embedded default) takes the comments.
      comments: Boolean(commentUrl && secret) || Boolean(!commentUrl && opts.localSink),
      missing: [...(secret ? [] : ['TETHER_WEBHOOK_SECRET']), ...(commentUrl || opts.localSink ? [] : ['TETHER_TICKET_COMMENT_URL'])],
    };
  },
};
