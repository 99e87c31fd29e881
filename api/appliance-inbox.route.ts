// The enrolled appliance's own resources, signed: GET /v1/appliances/:serial/inbox (keys pushed to
// it and still waiting: session ISSUED and unexpired; the customer accepts one with
// `ktether enable --pending`) and PUT /v1/appliances/:serial/version (the agent reports upgrades).
import type { FastifyInstance } from 'fastify';
import { APPLIANCE_PATHS, versionReportSchema, type InboxEntryView } from '../shared/protocol.js';
import type { ApplianceStore } from '../shared/store/appliance.store.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { authenticateAppliance, parseJsonBody, rawBodyOf } from './appliance-signature.js';

export interface InboxRouteDeps {
  appliances: ApplianceStore;
  sessions: SessionStore;
  audit: AuditLog;
  now: () => number;
}

export async function applianceInboxRoute(app: FastifyInstance, deps: InboxRouteDeps): Promise<void> {
  app.get(APPLIANCE_PATHS.inbox(':serial'), async (request) => {
    const appliance = await authenticateAppliance(request, deps);
    const keys: InboxEntryView[] = [];
    for (const entry of await deps.appliances.inbox(appliance.serial, deps.now())) {
      const session = await deps.sessions.get(entry.sid);
      // Revoked, superseded or already used while waiting: gone now, whatever the audit bridge is up to.
      if (session?.state !== 'ISSUED') {
        await deps.appliances.removeFromInbox(appliance.serial, entry.sid);
        continue;
      }
      keys.push({
        sid: entry.sid,
        key: entry.key,
        issuedAt: new Date(entry.issuedAt).toISOString(),
        expiresAt: new Date(entry.expiresAt).toISOString(),
        ...(entry.ticket ? { ticket: entry.ticket } : {}),
      });
    }
    return { keys };
  });

  app.put(APPLIANCE_PATHS.version(':serial'), async (request) => {
    const appliance = await authenticateAppliance(request, deps);
    const { version } = parseJsonBody(versionReportSchema, rawBodyOf(request));
    if (version !== appliance.version) {
      await deps.appliances.updateVersion(appliance.serial, version, deps.now());
      await deps.audit.append('appliance.version', { serial: appliance.serial, actor: `appliance:${appliance.serial}`, from: appliance.version, to: version }, deps.now());
    }
    return { serial: appliance.serial, product: appliance.product, version };
  });
}
