// Zendesk's settings: its TETHER_ZENDESK_* variables, the config they make (undefined until the
// webhook secret is set), what it needs to be complete, and its adapter. docs/help-desks.md, "Zendesk".
import { baseUrl, credential, mailbox, numericId, secret, vendorTag } from '../help-desk-env.js';
import { vendorHelpDesk } from '../help-desk.js';
import { createZendeskAdapter, type ZendeskConfig } from './zendesk.adapter.js';
import { ZENDESK_SYSTEM } from './zendesk-webhook.js';

export const zendeskHelpDesk = vendorHelpDesk({
  system: ZENDESK_SYSTEM,
  switchedOnBy: { TETHER_ZENDESK_WEBHOOK_SECRET: secret },
  api: { TETHER_ZENDESK_URL: baseUrl, TETHER_ZENDESK_EMAIL: mailbox, TETHER_ZENDESK_API_TOKEN: credential },
  env: {
    TETHER_ZENDESK_TAG: vendorTag,
    TETHER_ZENDESK_SERIAL_FIELD: numericId.optional(),
    TETHER_ZENDESK_PRODUCT_FIELD: numericId.optional(),
    TETHER_ZENDESK_VERSION_FIELD: numericId.optional(),
  },
  config: (e): ZendeskConfig | undefined =>
    e.TETHER_ZENDESK_WEBHOOK_SECRET
      ? {
          webhookSecret: e.TETHER_ZENDESK_WEBHOOK_SECRET,
          api: e.TETHER_ZENDESK_URL && e.TETHER_ZENDESK_EMAIL && e.TETHER_ZENDESK_API_TOKEN ? { url: e.TETHER_ZENDESK_URL, email: e.TETHER_ZENDESK_EMAIL, token: e.TETHER_ZENDESK_API_TOKEN } : undefined,
          tag: e.TETHER_ZENDESK_TAG,
          fields: { serial: e.TETHER_ZENDESK_SERIAL_FIELD, product: e.TETHER_ZENDESK_PRODUCT_FIELD, version: e.TETHER_ZENDESK_VERSION_FIELD },
        }
      : undefined,
  createAdapter: createZendeskAdapter,
  ticketLink: (c, id) => (c.api && /^\d+$/.test(id) ? `${c.api.url}/agent/tickets/${id}` : null),
});
