// Child process holding simulated appliances that run the real tunnel agent (TunnelAgent): the key's
// fleet of relays in its order, the two-step first login (a key pair made here, then the session
// credential, whose partial success binds it), production keepalives and jittered backoff, and its
// reconnect to the next endpoint when a relay goes away. Reports set-up figures, and on request which
// relay each agent is on and how long each reconnect took. Forwarded channels are refused (idle tunnels).
import type { AgentState } from '../../appliance/agent-state.js';
import { dialRelay, type DialOptions, type RelayEndpoint } from '../../appliance/tunnel/relay-dial.js';
import { TunnelAgent } from '../../appliance/tunnel/tunnel-agent.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { forEachPooled, type SetupFigures } from './fleet-setup.js';

export interface AgentAppliance {
  serial: string;
  /** OpenSSH private key text of the session's tunnel credential (the key's `cred`). */
  credential: string;
  /** The key's relays, in its order (the first is `relay`). */
  relays: RelayEndpoint[];
  /** Epoch ms the key expires. */
  expiresAt: number;
  /** The port forwarded (`tcpip-forward localhost:<port>`). */
  port: number;
}

export type AgentFleetRequest =
  | { type: 'start'; appliances: AgentAppliance[]; concurrency: number; keepaliveMs: number; setupTimeoutMs: number }
  | { type: 'status' }
  | { type: 'ping' }
  | { type: 'close' };

/**
 * A child's share set up. ok: agents CONNECTED within the set-up timeout; failed: stopped (refused)
 * or not connected in time; setupMs: start → connected, per agent.
 */
export interface AgentsStarted extends SetupFigures {
  type: 'started';
  /** Attempts that failed and were retried by the agents' backoff during set-up. */
  retries: number;
}

export interface AgentsStatus {
  type: 'status';
  /** Agents per state. */
  states: Partial<Record<AgentState, number>>;
  /** Connected agents per relay port. */
  byPort: Record<number, number>;
  /** Per reconnect since the start (connected → connecting → connected): the gap in ms, and the port it ended on. */
  reconnects: { gapMs: number; port: number; at: number }[];
  /** Failed attempts (retried) since the start, after set-up. */
  retries: number;
  errors: string[];
  /** Those failed attempts by kind (the agent's message with serial, address and numbers taken out). */
  retryKinds: Record<string, number>;
  /** Dials after set-up: each successful one's duration (TCP connect → logged in), ms. */
  dialMs: number[];
}

export type AgentFleetMessage = AgentsStarted | AgentsStatus | { type: 'pong' } | { type: 'closed' };

interface Held {
  agent: TunnelAgent;
  /** Relay port of the dial that last succeeded. */
  port: number;
  droppedAt: number | undefined;
}

const held: Held[] = [];
const reconnects: AgentsStatus['reconnects'] = [];
const laterErrors: string[] = [];
let laterRetries = 0;
const retryKinds: Record<string, number> = {};
const laterDialMs: number[] = [];
let settingUp = true;

function kindOf(error: string): string {
  return error
    .replace(/\d+(\.\d+)*(:\d+)?/g, 'N')
    .replace(/retrying in N ms/, '')
    .slice(0, 100);
}

function startOne(a: AgentAppliance, keepaliveMs: number, timeoutMs: number, onRetry: (error: string) => void): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: { ok: boolean; error?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => settle({ ok: false, error: `${a.serial}: not connected within ${timeoutMs} ms` }), timeoutMs);
    const h: Held = { agent: undefined as unknown as TunnelAgent, port: 0, droppedAt: undefined };
    // The agent's own dial, noting which relay answered (a relay per port on this machine).
    const dial = async (o: DialOptions) => {
      const t0 = performance.now();
      const client = await dialRelay(o);
      if (!settingUp) laterDialMs.push(performance.now() - t0);
      h.port = o.relay.port;
      return client;
    };
    h.agent = new TunnelAgent({
      relay: a.relays[0]!,
      relays: a.relays,
      username: a.serial,
      // As `ktether enable` does: the appliance's own key, which the first login binds to the session.
      privateKey: openSshPrivateKeyFromSeed(generateSeed()),
      activationKey: a.credential,
      forwards: [{ port: a.port, target: { host: '127.0.0.1', port: 9 } }],
      expiresAt: a.expiresAt,
      keepaliveMs,
      dial,
      events: {
        state: (to, from) => {
          if (from === 'connected' && to === 'connecting') h.droppedAt = Date.now();
          if (to === 'connected') {
            if (h.droppedAt !== undefined) reconnects.push({ gapMs: Date.now() - h.droppedAt, port: h.port, at: Date.now() });
            h.droppedAt = undefined;
            settle({ ok: true });
          }
        },
        retrying: ({ error }) => {
          if (settingUp) onRetry(error);
          else {
            laterRetries++;
            const k = kindOf(error);
            retryKinds[k] = (retryKinds[k] ?? 0) + 1;
            if (laterErrors.length < 5) laterErrors.push(`${a.serial}: ${error}`);
          }
        },
        stopped: ({ reason }) => settle({ ok: false, error: `${a.serial}: stopped: ${reason}` }),
      },
    });
    held.push(h);
    h.agent.start();
  });
}

async function startAll(req: Extract<AgentFleetRequest, { type: 'start' }>): Promise<AgentsStarted> {
  settingUp = true;
  const result: AgentsStarted = { type: 'started', ok: 0, failed: 0, retries: 0, errors: [], startedAt: Date.now(), finishedAt: 0, setupMs: [] };
  const onRetry = (error: string) => {
    result.retries++;
    if (result.errors.length < 5) result.errors.push(error);
  };
  await forEachPooled(req.appliances, req.concurrency, async (a) => {
    const t0 = performance.now();
    const r = await startOne(a, req.keepaliveMs, req.setupTimeoutMs, onRetry);
    if (r.ok) {
      result.ok++;
      result.setupMs.push(performance.now() - t0);
    } else {
      result.failed++;
      if (r.error && result.errors.length < 10) result.errors.push(r.error);
    }
  });
  result.finishedAt = Date.now();
  settingUp = false;
  return result;
}

function status(): AgentsStatus {
  const states: AgentsStatus['states'] = {};
  const byPort: Record<number, number> = {};
  for (const h of held) {
    const s = h.agent.state;
    states[s] = (states[s] ?? 0) + 1;
    if (s === 'connected') byPort[h.port] = (byPort[h.port] ?? 0) + 1;
  }
  return { type: 'status', states, byPort, reconnects, retries: laterRetries, errors: laterErrors, retryKinds, dialMs: laterDialMs };
}

process.on('message', (msg: AgentFleetRequest) => {
  if (msg.type === 'start') {
    void startAll(msg).then((r) => process.send?.(r satisfies AgentFleetMessage));
  } else if (msg.type === 'status') {
    process.send?.(status() satisfies AgentFleetMessage);
  } else if (msg.type === 'ping') {
    process.send?.({ type: 'pong' } satisfies AgentFleetMessage);
  } else if (msg.type === 'close') {
    // Stopped without telling the relay anything, as a powered-off appliance would.
    void Promise.all(held.map((h) => h.agent.close())).finally(() => process.send?.({ type: 'closed' } satisfies AgentFleetMessage, () => process.exit(0)));
  }
});
process.on('disconnect', () => process.exit(0));
