// The shape of `ktether status` and how it is printed (`--json`, or the aligned rows), the same
// whether the CLI built it or a running service did. Types and formatting only: the service client
// prints through this without loading the rest of the agent.
import type { InboxEntryView } from '../shared/protocol.js';
import type { EnableTimings } from './service/service-types.js';

export type Waiting = Omit<InboxEntryView, 'key'>;

/** What a running service adds to the status (`ktether status` with a service, the page). */
export interface ServiceInfo {
  pid: number;
  phase: string;
  /** disabled | connecting | connected | lost | disabling: what the customer is told. */
  tether: string;
  /** When `tether` last changed (ISO time). */
  since: string;
  ticket: string | null;
  /** Engineer channels open right now, by port. */
  channels: Record<string, number>;
  page: string | null;
  /** This product and version can ask for a tether with a description (SMA 10.2+, SDA 6.1+). */
  oneClick: boolean;
  /** Where the milliseconds of the last enable went. */
  lastEnable: EnableTimings | null;
}

export interface StatusReport {
  serial: string;
  product: string;
  version: string;
  state: string;
  daemon: 'running' | 'crashed' | 'stopped';
  sessionId: string | null;
  relay: string | null;
  relayFingerprint: string | null;
  ports: number[];
  expiresAt: string | null;
  connectedAt: string | null;
  connections: number;
  pid: number | null;
  lastError: string | null;
  enrolled: boolean;
  /** Keys pushed to this appliance and not yet accepted (`ktether enable --pending`). */
  waitingKeys: Waiting[];
  inboxError: string | null;
  service?: ServiceInfo;
}

/** The lines `ktether status` prints (`--json`: the object, indented). */
export function statusLines(status: StatusReport, json: boolean): string[] {
  if (json) return [JSON.stringify(status, null, 2)];
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
  // What a running service adds, after the familiar rows.
  if (status.service) rows.push(['service', `running (pid ${status.service.pid}), tether ${status.service.tether}`]);
  return rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`);
}
