// Jira Service Management's settings: its TETHER_JIRA_* variables, the config they make (undefined
// until the webhook secret and the serial field are set), what it needs to be complete, and its
// adapter. docs/help-desks.md, "Jira Service Management".
import { baseUrl, credential, fieldName, mailbox, numericId, secret, vendorTag } from '../help-desk-env.js';
import { vendorHelpDesk } from '../help-desk.js';
import { createJiraAdapter, type JiraConfig } from './jira.adapter.js';
import { JIRA_SYSTEM } from './jira-webhook.js';

export const jiraHelpDesk = vendorHelpDesk({
  system: JIRA_SYSTEM,
  switchedOnBy: { TETHER_JIRA_WEBHOOK_SECRET: secret },
  api: { TETHER_JIRA_URL: baseUrl, TETHER_JIRA_EMAIL: mailbox, TETHER_JIRA_API_TOKEN: credential },
  // Without the serial field no event could be mapped: Jira is not on until it is set.
  needs: { TETHER_JIRA_SERIAL_FIELD: fieldName },
  env: {
    TETHER_JIRA_LABEL: vendorTag,
    TETHER_JIRA_PRODUCT_FIELD: fieldName.optional(),
    TETHER_JIRA_VERSION_FIELD: fieldName.optional(),
    TETHER_JIRA_EMAIL_FIELD: fieldName.optional(),
    TETHER_JIRA_SERVICE_DESK_ID: numericId.optional(),
    TETHER_JIRA_REQUEST_TYPE_ID: numericId.optional(),
  },
  config: (e): JiraConfig | undefined =>
    e.TETHER_JIRA_WEBHOOK_SECRET && e.TETHER_JIRA_SERIAL_FIELD
      ? {
          webhookSecret: e.TETHER_JIRA_WEBHOOK_SECRET,
          api: e.TETHER_JIRA_URL && e.TETHER_JIRA_EMAIL && e.TETHER_JIRA_API_TOKEN ? { url: e.TETHER_JIRA_URL, email: e.TETHER_JIRA_EMAIL, token: e.TETHER_JIRA_API_TOKEN } : undefined,
          label: e.TETHER_JIRA_LABEL,
          fields: { serial: e.TETHER_JIRA_SERIAL_FIELD, product: e.TETHER_JIRA_PRODUCT_FIELD, version: e.TETHER_JIRA_VERSION_FIELD, email: e.TETHER_JIRA_EMAIL_FIELD },
          serviceDeskId: e.TETHER_JIRA_SERVICE_DESK_ID,
          requestTypeId: e.TETHER_JIRA_REQUEST_TYPE_ID,
        }
      : undefined,
  createAdapter: createJiraAdapter,
  ticketLink: (c, id) => (c.api && /^[A-Z][A-Z0-9_]*-\d+$/.test(id) ? `${c.api.url}/browse/${id}` : null),
});
