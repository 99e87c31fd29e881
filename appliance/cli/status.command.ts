// `ktether status [--json]`: the appliance, the recorded tether and whether its daemon is alive.
import { loadAgentConfig } from '../agent-config.js';
import { daemonStatus, readTetherState } from '../tether-state.js';
import { homePaths, parseOptions, type CliContext } from './cli-context.js';

export async function statusCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, { json: { type: 'boolean' } });
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const t = readTetherState(paths);
  const d = daemonStatus(paths);
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
  for (const [k, v] of rows) ctx.out(`${`${k}:`.padEnd(12)}${v}`);
  return 0;
}
