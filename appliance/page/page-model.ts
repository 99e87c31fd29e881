// What the Tether page shows, computed from the service's status in one place (pure: the clock is
// passed in): the status word, when it last changed, the details, the consent sentence (which ports
// the vendor can reach and until when), open engineer channels, the form this version allows.
// The HTML view and the polling script both render this, as text.
import { DEFAULT_PORTS } from '../../shared/key/tether-key.schema.js';
import { SUPPORT_USER } from '../accounts/account-provider.js';
import type { AgentConfig } from '../agent-config.js';
import { formatLogTime } from '../log-line.js';
import type { ServiceInfo, StatusReport } from '../status-report.js';

export type FormKind = 'description' | 'key';

export interface PageModel {
  appliance: string;
  /** disabled | connecting | connected | lost | disabling */
  state: string;
  word: string;
  since: string;
  rows: [label: string, value: string][];
  reach: string;
  channels: string;
  /** The enable form this product and version allows; null while a tether is enabled. */
  form: FormKind | null;
  /**
   * A key support pushed to this (enrolled) appliance, the one "Accept" takes, with how many more
   * wait; null when none (or while a tether is enabled). Read on a full page view, not when polling.
   */
  waiting: { sid: string; ticket: string | null; expires: string; more: number } | null;
  /** Why the inbox could not be read (the page still works). */
  inboxError: string | null;
  log: string[];
}

const PORT_NAMES: Record<number, string> = { 22: 'SSH', 80: 'HTTP', 443: 'HTTPS', 3306: 'database' };

export function describePorts(ports: readonly number[]): string {
  const named = ports.map((p) => (PORT_NAMES[p] ? `${p} (${PORT_NAMES[p]})` : String(p)));
  if (named.length <= 1) return named.join('');
  return `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}`;
}

/** `in 1 h 59 min`, `in 3 d 4 h`, `2 min ago`. */
export function relative(ms: number): string {
  const past = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3_600);
  s -= h * 3_600;
  const m = Math.floor(s / 60);
  const text = d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min` : `${s} s`;
  return past ? `${text} ago` : `in ${text}`;
}

function at(iso: string, now: number): string {
  const t = Date.parse(iso);
  return `${formatLogTime(new Date(t))} (${relative(t - now)})`;
}

export function pageModel(config: AgentConfig, status: StatusReport & { service: ServiceInfo }, log: string[], now: number): PageModel {
  const svc = status.service;
  const state = svc.tether;
  const [first] = status.waitingKeys;
  const enabled = state !== 'disabled';
  const offered = DEFAULT_PORTS[config.product].filter((p) => config.forwards[String(p)] !== undefined);
  const open = Object.entries(svc.channels).filter(([, n]) => n > 0);
  const channels = open.length === 0 ? 'none' : open.map(([port, n]) => `${n} on port ${port}`).join(', ');
  const rows: [string, string][] = [];
  let reach: string;
  if (enabled) {
    rows.push(['Session', status.sessionId ?? '—'], ['Ticket', svc.ticket ?? '—'], ['Relay', status.relay ?? '—']);
    rows.push(['Vendor can reach', status.ports.length ? `ports ${describePorts(status.ports)}` : '—']);
    rows.push(['Until', status.expiresAt ? at(status.expiresAt, now) : '—']);
    if (status.connectedAt) rows.push(['Last connected', at(status.connectedAt, now)]);
    rows.push(['Open engineer connections', channels]);
    if (status.lastError && state !== 'connected') rows.push(['Last error', status.lastError]);
    reach =
      `The vendor's support engineers can reach ports ${describePorts(status.ports)} of this appliance through the vendor's relay, ` +
      `signed in as ${SUPPORT_USER}, until ${status.expiresAt ? formatLogTime(new Date(status.expiresAt)) : 'the key expires'} or until you disable the tether.`;
  } else {
    if (status.lastError) rows.push(['Last tether ended', status.lastError]);
    rows.push(['Open engineer connections', channels]);
    reach =
      `Nothing is reachable now. When you enable the tether, the vendor's support engineers can reach ports ${describePorts(offered)} ` +
      `of this appliance through the vendor's relay and sign in as ${SUPPORT_USER}, until you disable it here or its key expires ` +
      '(support sets the expiry, 12 weeks at most; it is shown here once connected).';
  }
  return {
    appliance: `${config.product.toUpperCase()} ${config.serial} · version ${config.version}`,
    state,
    word: state.toUpperCase(),
    since: `since ${formatLogTime(new Date(svc.since))}`,
    rows,
    reach,
    channels,
    form: enabled ? null : svc.oneClick ? 'description' : 'key',
    waiting: enabled || !first ? null : { sid: first.sid, ticket: first.ticket ? `${first.ticket.system}:${first.ticket.id}` : null, expires: at(first.expiresAt, now), more: status.waitingKeys.length - 1 },
    inboxError: enabled ? null : status.inboxError,
    log,
  };
}
