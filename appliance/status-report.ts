// What `ktether status` reports, built in one place for the CLI and the service (printed by
// status-lines.ts). For an enrolled appliance it also asks the API, briefly,
// for keys waiting in its inbox; an unreachable API is reported, never fatal.
import { describeError } from '../shared/errors.js';
import type { AgentConfig } from './agent-config.js';
import type { AgentPaths } from './agent-home.js';
import { fetchInbox, reportVersionIfChanged } from './api-client.js';
import type { ApplianceIdentity } from './identity.js';
import type { StatusReport, Waiting } from './status-lines.js';
import { daemonStatus, readTetherState } from './tether-state.js';

export type { ServiceInfo, StatusReport } from './status-lines.js';

/** How long `ktether status` waits for the API's answer about the inbox (the Tether page waits less). */
export const INBOX_TIMEOUT_MS = 5_000;

/** null: not enrolled. */
async function inboxOf(paths: AgentPaths, identity: ApplianceIdentity | undefined, config: AgentConfig, timeoutMs: number): Promise<{ keys: Waiting[] | null; error: string | null }> {
  if (!identity) return { keys: null, error: null };
  try {
    const current = await reportVersionIfChanged(paths, identity, config.version, timeoutMs);
    const keys = await fetchInbox(current, timeoutMs);
    return { keys: keys.map(({ key: _key, ...rest }) => rest), error: null };
  } catch (err) {
    const timedOut = (err as { cause?: { name?: string } }).cause?.name === 'TimeoutError';
    return { keys: [], error: timedOut ? `the tether API did not answer within ${timeoutMs / 1000} s` : describeError(err) };
  }
}

export interface StatusOptions {
  /** Ask the API for keys waiting in the inbox (false: the page's once-a-second polling). */
  inbox: boolean;
  /** How long to wait for that answer (default INBOX_TIMEOUT_MS). */
  inboxTimeoutMs?: number;
}

export async function buildStatus(paths: AgentPaths, config: AgentConfig, identity: ApplianceIdentity | undefined, opts: StatusOptions): Promise<StatusReport> {
  const t = readTetherState(paths);
  const d = daemonStatus(paths);
  const inbox = opts.inbox ? await inboxOf(paths, identity, config, opts.inboxTimeoutMs ?? INBOX_TIMEOUT_MS) : { keys: identity ? [] : null, error: null };
  return {
    serial: config.serial,
    product: config.product,
    version: config.version,
    state: t?.state ?? 'closed',
    daemon: d.running ? 'running' : d.stale ? 'crashed' : 'stopped',
    sessionId: t?.sessionId ?? null,
    // The relay it is connected to (a fleet's keys name several); the key's first one until then.
    relay: t ? `${(t.via ?? t.relay).host}:${(t.via ?? t.relay).port}` : null,
    relayFingerprint: t ? (t.via ?? t.relay).fp : null,
    ports: t?.ports ?? [],
    expiresAt: t?.expiresAt ?? null,
    connectedAt: t?.connectedAt ?? null,
    connections: t?.connections ?? 0,
    pid: d.running ? (d.pid ?? null) : null,
    lastError: t?.lastError ?? null,
    enrolled: inbox.keys !== null,
    waitingKeys: inbox.keys ?? [],
    inboxError: inbox.error,
  };
}
