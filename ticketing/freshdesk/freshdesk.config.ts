// Freshdesk's settings: its TETHER_FRESHDESK_* variables, the config they make (undefined until
// the webhook token is set), what it needs to be complete, and its adapter. docs/help-desks.md,
// "Freshdesk".
import { z } from 'zod';
import { baseUrl, credential, fieldName, vendorTag } from '../help-desk-env.js';
import { vendorHelpDesk } from '../help-desk.js';
import { createFreshdeskAdapter, type FreshdeskConfig } from './freshdesk.adapter.js';
import { FRESHDESK_SYSTEM } from './freshdesk-webhook.js';

export const freshdeskHelpDesk = vendorHelpDesk({
  system: FRESHDESK_SYSTEM,
  switchedOnBy: { TETHER_FRESHDESK_WEBHOOK_TOKEN: z.string().min(32, 'must be at least 32 characters (it is the only credential Freshdesk sends)') },
  api: { TETHER_FRESHDESK_URL: baseUrl, TETHER_FRESHDESK_API_KEY: credential },
  env: {
    TETHER_FRESHDESK_TAG: vendorTag,
    TETHER_FRESHDESK_SERIAL_FIELD: fieldName.optional(),
    TETHER_FRESHDESK_PRODUCT_FIELD: fieldName.optional(),
    TETHER_FRESHDESK_VERSION_FIELD: fieldName.optional(),
  },
  config: (e): FreshdeskConfig | undefined =>
    e.TETHER_FRESHDESK_WEBHOOK_TOKEN
      ? {
          webhookToken: e.TETHER_FRESHDESK_WEBHOOK_TOKEN,
          api: e.TETHER_FRESHDESK_URL && e.TETHER_FRESHDESK_API_KEY ? { url: e.TETHER_FRESHDESK_URL, apiKey: e.TETHER_FRESHDESK_API_KEY } : undefined,
          tag: e.TETHER_FRESHDESK_TAG,
          fields: { serial: e.TETHER_FRESHDESK_SERIAL_FIELD, product: e.TETHER_FRESHDESK_PRODUCT_FIELD, version: e.TETHER_FRESHDESK_VERSION_FIELD },
        }
      : undefined,
  createAdapter: createFreshdeskAdapter,
  ticketLink: (c, id) => (c.api && /^\d+$/.test(id) ? `${c.api.url}/a/tickets/${id}` : null),
});
