// `ktether status` and the Tether page ask the API for keys waiting in the inbox; an API that never
// answers is given up on after the caller's budget (the page's is short) with a one-line note, and
// the rest of the status is still there.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../appliance/agent-config.js';
import { agentPaths, ensureHome } from '../../appliance/agent-home.js';
import type { ApplianceIdentity } from '../../appliance/identity.js';
import { PAGE_INBOX_TIMEOUT_MS } from '../../appliance/page/page-server.js';
import { buildStatus } from '../../appliance/status-report.js';
import { generateIdentityKeys } from '../../shared/key/sealing.js';

const home = mkdtempSync(join(tmpdir(), 'status-inbox-'));
const sockets = new Set<Socket>();
// Accepts connections and never answers: an API behind a firewall that drops, not refuses.
const silent: Server = createServer(() => undefined);
silent.on('connection', (s) => sockets.add(s));
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
  rmSync(home, { recursive: true, force: true });
});

describe('the inbox part of the status', () => {
  it('gives up on an API that never answers after the budget, says so in one line, and reports the rest', async () => {
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const api = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const paths = agentPaths(home);
    ensureHome(paths);
    const config = { serial: 'K1000-SILENT', product: 'sma', version: '10.2' } as AgentConfig;
    const identity: ApplianceIdentity = { serial: 'K1000-SILENT', api, ...generateIdentityKeys(), enrolledAt: new Date().toISOString(), reportedVersion: '10.2' };

    const page = await buildStatus(paths, config, identity, { inbox: true, inboxTimeoutMs: PAGE_INBOX_TIMEOUT_MS });
    expect(page.inboxError).toBe('the tether API did not answer within 1.5 s');
    expect(page).toMatchObject({ serial: 'K1000-SILENT', enrolled: true, waitingKeys: [], state: 'closed' });

    const polled = await buildStatus(paths, config, identity, { inbox: false });
    expect(polled.inboxError).toBeNull();
  });
});
