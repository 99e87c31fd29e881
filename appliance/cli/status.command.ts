// `ktether status [--json]`: the appliance, the recorded tether and whether its daemon is alive;
// for an enrolled appliance also the keys waiting in its inbox (asked of the API, briefly).
import { describeError } from '../../shared/errors.js';
import type { InboxEntryView } from '../../shared/protocol.js';
import { loadAgentConfig, type AgentConfig } from '../agent-config.js';
import type { AgentPaths } from '../agent-home.js';
import { fetchInbox, reportVersionIfChanged } from '../api-client.js';
import { readIdentity } from '../identity.js';
import { daemonStatus, readTetherState } from '../tether-state.js';
import { homePaths, parseOptions, type CliContext } from './cli-context.js';

const INBOX_TIMEOUT_MS = 5_000;

type Waiting = Omit<InboxEntryView, 'key'>;

/** null: not enrolled. An unreachable API is reported, never fatal: status must always answer. */
async function inboxOf(paths: AgentPaths, config: AgentConfig): Promise<{ keys: Waiting[] | null; error: string | null }> {
  const identity = readIdentity(paths);
  if (!identity) return { keys: null, error: null };
  try {
    const current = await reportVersionIfChanged(paths, identity, config.version);
    const keys = await fetchInbox(current, INBOX_TIMEOUT_MS);
    return { keys: keys.map(({ key: _key, ...rest }) => rest), error: null };
  } catch (err) {
    return { keys: [], error: describeError(err) };
  }
}

export async function statusCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, { json: { type: 'boolean' } });
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const t = readTetherState(paths);
  const d = daemonStatus(paths);
  const inbox = await inboxOf(paths, config);
  const status = {
    serial: config.serial,
    product: config.product,
    version: config.version,
    state: t?.state ?? 'closed',
    daemon: d.running ? 'running' : d.stale ? 'crashed' : 'stopped',
    sessionId: t?.sessionId ?? null,
    relay: t ? `${t.relay.host}:${t.relay.port}` : null,
    relayFingerprint: t?.relay.fp ?? null,
    ports: t?.ports ?? [],
    expiresAt: t?.expiresAt ?? null,
    connectedAt: t?.connectedAt ?? null,
    connections: t?.connections ?? 0,
    pid: d.running ? (d.pid ?? null) : null,
    lastError: t?.lastError ?? null,
    enrolled: inbox.keys !== null,
    /** Keys pushed to this appliance and not yet accepted (`ktether enable --pending`). */
    waitingKeys: inbox.keys ?? [],
    inboxError: inbox.error,
  };
  if (o.json) {
    ctx.out(JSON.stringify(status, null, 2));
    return 0;
  }
  const rows: [string, string][] = [
    ['serial', status.serial],
    ['product', `${status.product.toUpperCase()} ${status.version}`],
    ['state', status.state === 'closed' || status.daemon === 'running' ? status.state : `${status.state} (daemon ${status.daemon})`],
    ['session', status.sessionId ?? '-'],
    ['relay', status.relay ? `${status.relay} (${status.relayFingerprint})` : '-'],
    ['ports', status.ports.length ? status.ports.join(', ') : '-'],
    ['expires', status.expiresAt ?? '-'],
    ['pid', status.pid === null ? '-' : String(status.pid)],
  ];
  if (status.lastError) rows.push(['last error', status.lastError]);
  rows.push(['enrolled', status.enrolled ? 'yes' : 'no']);
  for (const w of status.waitingKeys) {
    const ticket = w.ticket ? ` for ticket ${w.ticket.system}:${w.ticket.id}` : '';
    rows.push(['waiting', `key for session ${w.sid}${ticket}, expires ${w.expiresAt}: accept with ktether enable --pending`]);
  }
  if (status.inboxError) rows.push(['inbox', `could not be read: ${status.inboxError}`]);
  for (const [k, v] of rows) ctx.out(`${`${k}:`.padEnd(12)}${v}`);
  return 0;
}
