// ServiceNow's settings: its TETHER_SERVICENOW_* variables, the config they make (undefined until
// the webhook secret is set), what it needs to be complete, and its adapter. docs/help-desks.md,
// "ServiceNow".
import { z } from 'zod';
import { baseUrl, credential, fieldName, secret } from '../help-desk-env.js';
import { vendorHelpDesk } from '../help-desk.js';
import { createServiceNowAdapter, type ServiceNowConfig } from './servicenow.adapter.js';
import { SERVICENOW_SYSTEM } from './servicenow-webhook.js';

export const serviceNowHelpDesk = vendorHelpDesk({
  system: SERVICENOW_SYSTEM,
  switchedOnBy: { TETHER_SERVICENOW_WEBHOOK_SECRET: secret },
  api: { TETHER_SERVICENOW_URL: baseUrl, TETHER_SERVICENOW_USER: credential, TETHER_SERVICENOW_PASSWORD: credential },
  env: {
    TETHER_SERVICENOW_SERIAL_FIELD: fieldName.optional(),
    TETHER_SERVICENOW_PRODUCT_FIELD: fieldName.optional(),
    TETHER_SERVICENOW_VERSION_FIELD: fieldName.optional(),
    TETHER_SERVICENOW_CLOSED_STATES: z.string().regex(/^\s*-?\d+(\s*,\s*-?\d+)*\s*$/, 'must be a comma-separated list of state values such as 6,7,8').default('6,7,8'),
  },
  config: (e): ServiceNowConfig | undefined =>
    e.TETHER_SERVICENOW_WEBHOOK_SECRET
      ? {
          webhookSecret: e.TETHER_SERVICENOW_WEBHOOK_SECRET,
          api:
            e.TETHER_SERVICENOW_URL && e.TETHER_SERVICENOW_USER && e.TETHER_SERVICENOW_PASSWORD
              ? { url: e.TETHER_SERVICENOW_URL, user: e.TETHER_SERVICENOW_USER, password: e.TETHER_SERVICENOW_PASSWORD }
              : undefined,
          fields: { serial: e.TETHER_SERVICENOW_SERIAL_FIELD, product: e.TETHER_SERVICENOW_PRODUCT_FIELD, version: e.TETHER_SERVICENOW_VERSION_FIELD },
          closedStates: e.TETHER_SERVICENOW_CLOSED_STATES.split(',').map((s) => s.trim()),
        }
      : undefined,
  createAdapter: createServiceNowAdapter,
  // Refs are `<number>/<sys_id>` or the sys_id alone (servicenow-webhook.ts).
  ticketLink: (c, id) => {
    const sysId = id.split('/').pop() ?? '';
    return c.api && /^[0-9a-f]{32}$/.test(sysId) ? `${c.api.url}/nav_to.do?uri=${encodeURIComponent(`incident.do?sys_id=${sysId}`)}` : null;
  },
});
